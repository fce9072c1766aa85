import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.api import proof_bundle, record
from ledger.models import Entry
from ledger.sequencer import log_verifier_key, sequence

TOOLS = Path(__file__).resolve().parents[2] / "ledger" / "tools"


def _run_isolated(tool, *args, cwd):
    # -I: no project directory or PYTHONPATH on sys.path, so any project import would fail.
    return subprocess.run([sys.executable, "-I", str(TOOLS / tool), *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.django_db
def test_the_offline_verifier_runs_without_the_project(ledger_context, tmp_path):
    for n in range(5):
        record(action="cards.residents.lookup", subject=f"resident:{n}")
    sequence()
    (tmp_path / "bundle.json").write_text(json.dumps(proof_bundle(index=3)))

    result = _run_isolated("onecard_verify.py", "bundle.json", "--key", log_verifier_key(), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "OK: entry 3 is in the signed tree of size 5" in result.stdout


def test_the_witness_tool_generates_a_key_without_the_project(tmp_path):
    result = _run_isolated(
        "onecard_witness.py", "generate-key", "--name", "w.example/1", "--key-file", "w.key", cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("w.example/1+")
    assert (tmp_path / "w.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db(transaction=True)
def test_a_committed_record_is_sequenced_on_commit_when_celery_is_eager(monkeypatch):
    from celery import current_app

    from ledger.api import Actor, access_context

    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    with access_context(actor=Actor(type="system", id="t"), role="system", channel="task", purpose="registration"):
        record(action="cards.residents.lookup", subject="resident:1")

    assert list(Entry.objects.values_list("index", flat=True)) == [0]
