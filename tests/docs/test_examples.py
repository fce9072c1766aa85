"""Every curl example in docs/*.md runs as written against a demo-seeded server and gets no error.

The first block of docs/api.md ("Your first call") sets the variables the other
examples use, from var/demo.json as `make run` writes it; each block runs in bash
after it, with curl failing on any HTTP error. Only the server address changes,
and the pharmacy example's dynamic QR code, which it makes with `manage.py shell`
against the development database, is made here against the test database.
"""

import importlib
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
SERVER = "http://127.0.0.1:8000"
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
SHELL_TOKEN = re.compile(r"TOKEN=\$\(\.venv/bin/python manage\.py shell .*?\"\)", re.S)


def blocks() -> list[tuple[str, int, str]]:
    """Return (file, number, text) of each sh block that calls the local server."""
    found = []
    for path in DOCS:
        for number, match in enumerate(BLOCK.finditer(path.read_text(encoding="utf-8")), start=1):
            if SERVER in match.group(1):
                found.append((path.name, number, match.group(1)))
    return found


PREAMBLE = next(text for name, _, text in blocks() if name == "api.md")
EXAMPLES = [(name, number, text) for name, number, text in blocks() if text != PREAMBLE]


@pytest.fixture
def demo(live_server, tmp_path):
    # A transactional test starts from an empty database: put back the rows a data migration gives
    # make run (the restricted OTC products), rather than a serialized rollback, which clashes with the
    # content types that other transactional tests' flushes recreate.
    importlib.import_module("services.pharmacy.migrations.0002_otc_registry").registry_create(django_apps, None)
    out = io.StringIO()
    call_command("seed_demo", "--json-file", str(tmp_path / "var" / "demo.json"), stdout=out)
    return live_server.url


def dynamic_token() -> str:
    from cards.actions import card_token_dynamic
    from cards.models import Card
    from ledger.api import Actor, access_context

    with access_context(actor=Actor(type="system", id="docs"), role="system", channel="shell", purpose="self-service"):
        return card_token_dynamic(card=Card.objects.filter(status="active").order_by("id").first())


def run(script: str, *, server: str, cwd: Path, **env) -> subprocess.CompletedProcess:
    script = script.replace(SERVER, server)
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body --show-error "$@"; }\n'
    return subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd)} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq"),
]


def test_the_docs_have_examples_to_run():
    assert len(EXAMPLES) >= 10
    assert "make run" in PREAMBLE and "var/demo.json" in PREAMBLE


def test_the_first_call_runs_as_written(demo, tmp_path):
    done = run(PREAMBLE.replace("make run", ": make run", 1), server=demo, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["code"] == "demo-bank"


@pytest.mark.parametrize(("name", "number", "text"), EXAMPLES, ids=[f"{n}-{i}" for n, i, _ in EXAMPLES])
def test_each_example_runs_as_written(demo, tmp_path, name, number, text):
    preamble = PREAMBLE.replace("make run", ": make run", 1)
    script = SHELL_TOKEN.sub('TOKEN="$DOCS_TEST_TOKEN"', text)

    done = run(preamble + "\n" + script, server=demo, cwd=tmp_path, DOCS_TEST_TOKEN=dynamic_token())

    assert done.returncode == 0, f"{name} block {number}:\n{done.stdout}\n{done.stderr}"
