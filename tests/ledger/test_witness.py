"""The tlog-witness server as real processes over HTTP, and the log's quorum publication against them."""

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle, note
from ledger.api import record
from ledger.publication import checkpoint_published, publication_lag
from ledger.selectors import consistency_proof
from ledger.sequencer import log_verifier_key, sequence, signing_key
from ledger.tools import onecard_witness
from ledger.witnessing import checkpoints_push

TOOL = Path(onecard_witness.__file__)


class WitnessProcess:
    """One onecard_witness.py serve process with its own key and state directory."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name
        self.key_file = directory / "witness.key"
        self.key = onecard_witness.key_generate(str(self.key_file))
        self.verifier_key = onecard_witness.verifier_key(name, self.key)
        self.port = 0
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(TOOL), "serve", "--name", self.name, "--key-file", str(self.key_file)]
            + ["--state-dir", str(self.directory / "state"), "--log-key", log_verifier_key()]
            + ["--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = json.loads(self.process.stdout.readline())["listening"]
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def witnesses(tmp_path, settings):
    """Three witness processes on random ports, and a policy that needs two of them."""
    started = []
    for n in range(3):
        directory = tmp_path / f"w{n}"
        directory.mkdir()
        witness = WitnessProcess(directory, f"witness{n}.example/w")
        witness.start()
        started.append(witness)
    settings.ONECARD_LEDGER_WITNESS_POLICY = "\n".join(
        [f"log {log_verifier_key()}"]
        + [f"witness w{n} {witness.verifier_key} {witness.url}" for n, witness in enumerate(started)]
        + ["group two-of-three 2 w0 w1 w2", "quorum two-of-three", ""]
    )
    yield started
    for witness in started:
        witness.stop()


def _post(url: str, body: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url + "/add-checkpoint", data=body.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def _seal(count: int):
    for n in range(count):
        record(action="cards.residents.lookup", subject=f"resident:{n}", object=f"object {n}")
    return sequence()


def _request(old: int, checkpoint_note: str, size: int | None = None) -> str:
    proof = consistency_proof(first=old, second=size)["path"] if old and size else []
    return f"old {old}\n" + "".join(f"{line}\n" for line in proof) + "\n" + checkpoint_note


def _newest_note() -> str:
    from ledger.models import Checkpoint

    return Checkpoint.objects.order_by("-tree_size").first().note


def _forged_checkpoint(size: int) -> str:
    """A checkpoint of SIZE over another root, signed with the log's own key: a fork."""
    from django.conf import settings

    body = note.checkpoint_body(settings.ONECARD_LEDGER_ORIGIN, size, merkle.leaf_hash(b"another history"))
    return note.note_sign(body, settings.ONECARD_LEDGER_ORIGIN, signing_key())


@pytest.mark.django_db
def test_a_witness_cosigns_a_checkpoint_and_its_line_verifies(ledger_context, witnesses):
    _seal(5)
    checkpoint = _newest_note()

    status, content_type, body = _post(witnesses[0].url, _request(0, checkpoint))

    assert status == 200
    name, _, encoded = body.strip()[len(note.SIGNATURE_PREFIX) :].rpartition(" ")
    assert name == witnesses[0].name
    text, _ = note.note_split(checkpoint)
    public = witnesses[0].key.public_key().public_bytes_raw()
    assert note.cosignature_verify(text, name, base64.b64decode(encoded), public) > 0


@pytest.mark.django_db
def test_a_wrong_old_size_gets_409_with_the_size_the_witness_holds(ledger_context, witnesses):
    _seal(5)
    assert _post(witnesses[0].url, _request(0, _newest_note()))[0] == 200
    _seal(3)

    status, content_type, body = _post(witnesses[0].url, _request(0, _newest_note()))

    assert (status, content_type, body) == (409, "text/x.tlog.size", "5\n")


@pytest.mark.django_db
def test_a_bad_consistency_proof_gets_422(ledger_context, witnesses):
    _seal(5)
    assert _post(witnesses[0].url, _request(0, _newest_note()))[0] == 200
    _seal(6)
    bad = "old 5\n" + base64.b64encode(b"\x01" * 32).decode() + "\n\n" + _newest_note()

    assert _post(witnesses[0].url, bad)[0] == 422


@pytest.mark.django_db
def test_a_bad_signature_gets_403_and_an_unknown_log_404(ledger_context, witnesses):
    _seal(2)
    checkpoint = _newest_note()
    stranger = Ed25519PrivateKey.generate()
    body, _ = note.note_split(checkpoint)
    from django.conf import settings

    unsigned = note.note_sign(body, settings.ONECARD_LEDGER_ORIGIN, stranger)
    other_log = note.note_sign(
        body.replace(settings.ONECARD_LEDGER_ORIGIN, "other.example/log"), "other.example/log", stranger
    )

    assert _post(witnesses[0].url, _request(0, unsigned))[0] == 403
    assert _post(witnesses[0].url, _request(0, other_log))[0] == 404
    assert _post(witnesses[0].url, "old 01\n\n" + checkpoint)[0] == 400
    assert _post(witnesses[0].url, "old 9\n\n" + checkpoint)[0] == 400


@pytest.mark.django_db
def test_a_forked_log_is_refused_and_kept_as_evidence_even_after_a_restart(ledger_context, witnesses):
    witness = witnesses[0]
    _seal(4)
    assert _post(witness.url, _request(0, _newest_note()))[0] == 200
    witness.stop()
    witness.start()

    status, _, body = _post(witness.url, _request(4, _forged_checkpoint(4)))

    assert status == 409
    assert "forked" in body
    refused = list((witness.directory / "state" / "logs").glob("*/refused/*"))
    assert len(refused) == 1
    assert "fork" in refused[0].read_text()


@pytest.mark.django_db
def test_the_same_tree_with_another_index_line_is_refused_as_equivocation(ledger_context, witnesses):
    from django.conf import settings

    from ledger.models import Checkpoint

    witness = witnesses[0]
    _seal(4)
    assert _post(witness.url, _request(0, _newest_note()))[0] == 200
    signed = Checkpoint.objects.get(tree_size=4)
    # The log signs its own tree again with another index root: a second version of the same checkpoint.
    body = note.checkpoint_body(settings.ONECARD_LEDGER_ORIGIN, 4, bytes(signed.root_hash), bytes(32))
    assert body != note.note_split(signed.note)[0]

    status, _, reply = _post(
        witness.url, _request(4, note.note_sign(body, settings.ONECARD_LEDGER_ORIGIN, signing_key()))
    )

    assert status == 409
    assert "two versions" in reply
    refused = list((witness.directory / "state" / "logs").glob("*/refused/*"))
    assert len(refused) == 1
    assert "equivocation" in refused[0].read_text()
    # The checkpoint it did cosign is still accepted again.
    assert _post(witness.url, _request(4, _newest_note()))[0] == 200


@pytest.mark.django_db
def test_every_cosigned_checkpoint_is_kept(ledger_context, witnesses):
    _seal(3)
    assert _post(witnesses[0].url, _request(0, _newest_note()))[0] == 200
    _seal(4)
    assert _post(witnesses[0].url, _request(3, _newest_note(), 7))[0] == 200

    kept = sorted((witnesses[0].directory / "state" / "logs").glob("*/cosigned/*"))

    assert [path.read_text().split("\n")[1] for path in kept] == ["3", "7"]


@pytest.mark.django_db
def test_the_log_publishes_once_two_of_three_cosigned(client, ledger_context, witnesses):
    _seal(6)

    outcomes = checkpoints_push()

    assert {outcome.status for outcome in outcomes} == {"cosigned"}
    published = client.get("/ledger/checkpoint").content.decode()
    assert published.split("\n")[1] == "6"
    assert sum(line.startswith(note.SIGNATURE_PREFIX + "witness") for line in published.split("\n")) == 3


@pytest.mark.django_db
def test_below_quorum_the_previous_checkpoint_stays_published(client, ledger_context, witnesses):
    _seal(6)
    checkpoints_push()
    witnesses[1].stop()
    witnesses[2].stop()
    _seal(4)

    outcomes = checkpoints_push()

    assert sorted(outcome.status for outcome in outcomes) == ["cosigned", "unreachable", "unreachable"]
    assert checkpoint_published().split("\n")[1] == "6"
    lag = publication_lag()
    assert (lag["published_size"], lag["newest_size"], lag["unpublished_entries"]) == (6, 10, 4)
    assert client.get("/healthz").json()["checks"]["publication"]["published_size"] == 6


@pytest.mark.django_db
def test_a_witness_that_was_down_catches_up(ledger_context, witnesses):
    _seal(6)
    checkpoints_push()
    witnesses[2].stop()
    _seal(5)
    checkpoints_push()
    _seal(5)
    witnesses[2].start()

    outcomes = checkpoints_push()

    assert {outcome.status for outcome in outcomes} == {"cosigned"}
    held = urllib.request.urlopen(f"{witnesses[2].url}/checkpoint?origin=onecard.example/ledger/v2", timeout=10).read()
    assert held.decode().split("\n")[1] == "16"


@pytest.mark.django_db
def test_a_log_that_rewrote_history_is_never_published(ledger_context, witnesses):
    _seal(6)
    checkpoints_push()
    from ledger.models import Checkpoint

    # The operator signs another tree of size 8 (it holds the key) and pushes it.
    forged = _forged_checkpoint(8)
    for witness in witnesses:
        status, _, _ = _post(
            witness.url,
            "old 6\n"
            + "".join(f"{line}\n" for line in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])
            + "\n"
            + forged,
        )
        assert status == 422

    assert Checkpoint.objects.count() == 1
    assert checkpoint_published().split("\n")[1] == "6"


@pytest.mark.django_db
def test_verify_anchors_on_the_witnesses_and_fails_a_shortened_log(ledger_context, witnesses):
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from tests.ledger.database import triggers_drop

    _seal(6)
    checkpoints_push()
    out = StringIO()
    call_command("ledger", "verify", "--json", stdout=out)
    assert json.loads(out.getvalue())["anchor_size"] == 6

    triggers_drop(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_cosignature")
        cursor.execute("DELETE FROM ledger_checkpoint")
        cursor.execute("DELETE FROM ledger_entry")
        cursor.execute("DELETE FROM ledger_node")
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("ledger", "verify", "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["ok"] is False
    assert "entries 0 to 5 are missing" in report["reason"]
