"""The production shape end to end: gunicorn, a real Celery worker and beat on PostgreSQL and Redis."""

import base64
import json
import subprocess
import sys

import pytest

from tests.reliability.conftest import agency, checkpoint_size, verify_card, wait_for
from tests.support.stack import ROOT, http

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

VERIFIER = ROOT / "ledger" / "tools" / "onecard_verify.py"


def _pending(stack) -> int:
    return json.loads(http("GET", stack.url("/healthz"))[2])["checks"]["sequencer"]["pending"]


def _auditor_get(stack, path):
    auditor = agency(stack, "demo-auditor")
    headers = {"Authorization": f"Bearer {auditor['api_key']}", "X-Purpose": "ledger-audit"}
    status, _, body = http("GET", stack.url(path), headers=headers)
    assert status == 200, body
    return json.loads(body)


def test_the_worker_sequences_partner_calls_into_a_verifiable_checkpoint(stack_factory, tmp_path):
    stack = stack_factory("smoke")
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    # The seed's own entries first, so the next checkpoint is the partner calls' doing.
    wait_for(lambda: _pending(stack) == 0, what="the worker to sequence the seed")
    before = checkpoint_size(stack)
    tokens = [citizen["card_token"] for citizen in stack.demo["citizens"]]

    answers = [verify_card(stack, token=token) for token in tokens]

    assert [status for status, _, _ in answers] == [200] * len(tokens)
    assert all(json.loads(body)["valid"] for _, _, body in answers)
    wait_for(lambda: _pending(stack) == 0, what="the worker to sequence the partner calls")
    after = checkpoint_size(stack)
    assert "ledger.tasks.sequence_pending" in stack.log("worker")
    verifications = [
        entry
        for index in range(before, after)
        if (entry := _auditor_get(stack, f"/api/v1/ledger/entries/{index}"))
        and json.loads(base64.b64decode(entry["entry_bytes"]))["channel"] == "api"
        and json.loads(base64.b64decode(entry["entry_bytes"]))["action"].startswith("cards.")
    ]
    assert len(verifications) == len(tokens)
    index = verifications[-1]["index"]
    proof = _auditor_get(stack, f"/api/v1/ledger/proof/inclusion?index={index}&tree_size={after}")
    checkpoint = http("GET", stack.url("/ledger/checkpoint"))[2].decode()
    key = http("GET", stack.url("/ledger/key"))[2].decode().strip()
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps(
            {
                "format": "onecard-proof-bundle/v2",
                "index": index,
                "entry_bytes": verifications[-1]["entry_bytes"],
                "salt": verifications[-1]["salt"],
                "tree_size": after,
                "path": proof["path"],
                "checkpoint": checkpoint,
            }
        )
    )
    verified = subprocess.run(
        [sys.executable, str(VERIFIER), str(bundle), "--key", key], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    assert f"OK: entry {index} is in the signed tree of size {after}" in verified.stdout

    statuses = stack.close()

    assert statuses == {"web": 0, "worker": 0, "beat": 0}
