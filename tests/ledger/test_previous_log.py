"""Migrating a format v1 log: migration 0008 seals it as the previous log, and the new log's leaf 0 names it."""

import base64
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ledger import leaves, merkle, note
from ledger.api import record
from ledger.models import Checkpoint, Entry, PreviousCheckpoint, PreviousEntry
from ledger.sequencer import LogTampered, sequence, signing_key
from ledger.tools import onecard_verify, tlog
from tests.ledger.database import triggers_lifted

pytestmark = pytest.mark.django_db(transaction=True)

V1_ORIGIN = "onecard.example/ledger"
BEFORE = ("ledger", "0007_verification_anchor")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes("ledger")[0]


def _v1_entry(index: int) -> bytes:
    entry = {
        "action": "cards.residents.lookup",
        "actor": {"id": "s1-registrar", "role": "registrar", "type": "staff"},
        "case_id": None,
        "channel": "admin",
        "index": index,
        "object": f"object {index}",
        "outcome": "ok",
        "purpose": "registration",
        "request_id": f"{index:032x}",
        "subject": f"p1-{index % 3:040x}",
        "time": "2026-11-21T07:04:00.123456Z",
    }
    return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()


def _v1_log(size: int, checkpoints: list[int]) -> tuple[list[bytes], dict]:
    """Write a format v1 log as the v1 sequencer did (leaf = entry bytes), with raw SQL on the v1 tables."""
    frontier, nodes, entries, signed = merkle.Frontier(), [], [], {}
    with connection.cursor() as cursor:
        for index in range(size):
            data = _v1_entry(index)
            leaf = merkle.leaf_hash(data)
            frontier.append(leaf, nodes)
            entries.append(data)
            cursor.execute(
                'INSERT INTO ledger_entry ("index", subject, entry_bytes, leaf_hash) VALUES (%s, %s, %s, %s)',
                [index, json.loads(data)["subject"], data, leaf],
            )
            if frontier.size in checkpoints:
                body = note.checkpoint_body(V1_ORIGIN, frontier.size, frontier.root())
                signed[frontier.size] = note.note_sign(body, V1_ORIGIN, signing_key())
                cursor.execute(
                    "INSERT INTO ledger_checkpoint (tree_size, root_hash, note, created_at) VALUES (%s, %s, %s, %s)",
                    [frontier.size, frontier.root(), signed[frontier.size], timezone.now()],
                )
        for key, value in nodes:
            cursor.execute("INSERT INTO ledger_node (key, hash) VALUES (%s, %s)", [key, value])
    return entries, signed


def _v1_bundle(entries: list[bytes], index: int, signed: dict, size: int) -> dict:
    """The proof bundle a resident downloaded before the migration (format v1)."""
    from tests.ledger import brute

    return {
        "format": "onecard-proof-bundle/v1",
        "index": index,
        "entry_bytes": base64.b64encode(entries[index]).decode(),
        "tree_size": size,
        "path": [base64.b64encode(node).decode() for node in brute.path(index, entries[:size])],
        "checkpoint": signed[size],
        "verifier_key": note.verifier_key(V1_ORIGIN, note.public_bytes(signing_key())),
        "witness_keys": [],
    }


def _verify():
    out = StringIO()
    try:
        call_command("ledger", "verify", "--json", stdout=out)
    except SystemExit as exit:
        return exit.code, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


@pytest.fixture
def v1_log():
    """A database migrated up to format v1 with a v1 log of 25 entries, then migrated to the current format."""
    latest = _latest()
    _migrate(BEFORE)
    try:
        written = _v1_log(25, checkpoints=[10, 20, 25])
    finally:
        _migrate(latest)
    return written


def test_the_migration_moves_the_v1_log_whole_and_the_new_log_starts_by_naming_its_final_checkpoint(
    v1_log, ledger_context
):
    entries, signed = v1_log
    record(action="cards.residents.lookup", subject="resident:1", object="after the migration")

    call_command("ledger", "seal", stdout=StringIO())

    assert PreviousEntry.objects.count() == 25
    assert [bytes(data) for data in PreviousEntry.objects.values_list("entry_bytes", flat=True)] == entries
    start = Entry.objects.get(index=0)
    assert bytes(start.salt) == b""
    assert json.loads(bytes(start.entry_bytes)) == {"index": 0, "previous_checkpoint": signed[25]}
    assert json.loads(bytes(Entry.objects.get(index=1).entry_bytes))["object"] == "after the migration"
    newest = Checkpoint.objects.order_by("-tree_size").first()
    assert newest.tree_size == 2 and newest.note.startswith("onecard.example/ledger/v2\n2\n")
    status, report = _verify()
    assert status == 0, report


def test_an_outside_client_reads_the_previous_logs_final_checkpoint_from_leaf_0(v1_log, ledger_context, live_server):
    _, signed = v1_log
    call_command("ledger", "seal", stdout=StringIO())
    key = tlog.http_fetcher(live_server.url + "/ledger")("key").decode().strip()

    _, size, _, builder = tlog.log_follow(tlog.http_fetcher(live_server.url + "/log"), key)

    first = builder.leaves[0]
    assert size == 1 and first[0] == tlog.LEAF_LOG_START
    previous = json.loads(first[1:])["previous_checkpoint"]
    v1_key = note.verifier_key(V1_ORIGIN, note.public_bytes(signing_key()))
    assert tlog.checkpoint_verify(previous, v1_key)[2:] == (
        25,
        bytes(PreviousCheckpoint.objects.get(tree_size=25).root_hash),
    )


def test_a_v1_proof_bundle_downloaded_before_the_migration_still_verifies(v1_log, tmp_path):
    entries, signed = v1_log
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(_v1_bundle(entries, 7, signed, 20)))
    key = note.verifier_key(V1_ORIGIN, note.public_bytes(signing_key()))

    assert onecard_verify.main([str(bundle), "--key", key]) == 0


def test_verify_catches_a_rewrite_of_the_previous_log(v1_log, ledger_context):
    call_command("ledger", "seal", stdout=StringIO())
    forged = _v1_entry(12).replace(b"object 12", b"object 99")
    with triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute(
            'UPDATE ledger_previousentry SET entry_bytes = %s, leaf_hash = %s WHERE "index" = 12',
            [forged, merkle.leaf_hash(forged)],
        )

    status, report = _verify()

    assert status == 1
    assert report["first_bad_index"] == 0
    assert "the previous log (onecard.example/ledger)" in report["reason"]


def test_verify_catches_a_new_log_that_names_another_previous_checkpoint(v1_log, ledger_context):
    _, signed = v1_log
    call_command("ledger", "seal", stdout=StringIO())
    with triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_previouscheckpoint WHERE tree_size = 25")

    status, report = _verify()

    assert status == 1
    assert "entry 0 names another final checkpoint" in report["reason"]


def test_the_new_log_is_refused_under_the_previous_logs_origin(v1_log, ledger_context, settings):
    settings.ONECARD_LEDGER_ORIGIN = V1_ORIGIN

    with pytest.raises(LogTampered, match="needs another"):
        sequence()

    assert not Entry.objects.exists()


def test_the_log_start_leaf_is_the_only_unsalted_one():
    start = leaves.log_start_bytes(previous_checkpoint="x\n1\nAA==\n")

    assert leaves.leaf_bytes(entry_bytes=start, salt=b"")[0] == tlog.LEAF_LOG_START
    with pytest.raises(tlog.TlogError):
        leaves.leaf_bytes(entry_bytes=start, salt=b"short")
