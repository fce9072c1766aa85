"""The tamper classes against ``ledger verify`` and the sequencer.

The classes are ``tests.ledger.tampers.TAMPERS``. Every test here runs the
sequencer and ``ledger verify`` after one and checks that nothing forged was
ever signed; tests/ledger/test_tamper_outside.py runs the same classes against
a mirror process and the resident's browser check.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from ledger import merkle, note
from ledger.models import Alert, Checkpoint, Entry
from ledger.publication import checkpoint_published
from ledger.sequencer import LogTampered, log_verifier_key, sequence
from ledger.witnessing import checkpoints_push
from tests.ledger.database import triggers_drop
from tests.ledger.tampers import SIZE, TAMPERS, append_forged, honest_log, roll_back, sql


def _verify(*args):
    out = StringIO()
    try:
        call_command("ledger", "verify", "--json", *args, stdout=out)
    except SystemExit as exit:
        return exit.code, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


def _signed_only_honest_trees(honest):
    """Assert every signed checkpoint is the honest tree's at its size (later leaves: the sequencer's own)."""
    for signed in Checkpoint.objects.values_list("note", flat=True):
        body = note.note_verify(signed, log_verifier_key())
        _, size, root = note.checkpoint_parse(body)
        leaves = honest[:size]
        if size > len(honest):
            leaves = honest + _stored_leaves(len(honest), size)
        assert root == _root(leaves), f"checkpoint {size} signs a forged tree"


def _stored_leaves(start, end):
    rows = Entry.objects.filter(index__gte=start, index__lt=end).order_by("index").values_list("leaf_hash", flat=True)
    return [bytes(leaf) for leaf in rows]


def _root(leaves):
    frontier = merkle.Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


@pytest.mark.django_db
@pytest.mark.parametrize("tamper", TAMPERS, ids=[tamper.name for tamper in TAMPERS])
def test_every_tamper_is_prevented_or_detected_and_never_signed(ledger_context, tamper):
    if connection.vendor not in tamper.vendors:
        pytest.skip(f"{tamper.name} exists only on {', '.join(tamper.vendors)}")
    honest = honest_log()

    if tamper.outcome == "prevented":
        with pytest.raises(DatabaseError), transaction.atomic():
            tamper.perform()
    else:
        if tamper.lift:
            triggers_drop(connection)
        tamper.perform()
    try:
        sequence()
        refused = False
    except LogTampered:
        refused = True
    checkpoints_push()
    status, report = _verify()

    if tamper.outcome == "prevented":
        assert not refused
        assert status == 0, report
    else:
        assert status == 1, report
        assert report["reason"]
    _signed_only_honest_trees(honest)
    # The witnesses cosign nothing forged: whatever is published (if the operator left anything) is the honest tree.
    now_published = checkpoint_published()
    if now_published is not None:
        _, size, root = note.checkpoint_parse(note.note_verify(now_published, log_verifier_key()))
        assert root == _root(honest[:size] + _stored_leaves(SIZE, size))


@pytest.mark.django_db
def test_the_sequencer_refuses_an_inserted_entry_and_raises_one_alert(ledger_context):
    honest_log()
    append_forged(with_subtree=False)

    for _ in range(2):
        with pytest.raises(LogTampered, match="entries 30 to 30 lie beyond the last signed checkpoint"):
            sequence()

    assert Checkpoint.objects.order_by("-tree_size").first().tree_size == SIZE
    assert Alert.objects.filter(message__contains="refused to sign").count() == 1


@pytest.mark.django_db
def test_healthz_shows_the_stored_log_beyond_its_checkpoint(client, ledger_context):
    honest_log()
    append_forged(with_subtree=True)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert "log" in response.json()["failing"]


@pytest.mark.django_db
def test_deleting_every_checkpoint_never_verifies_as_an_empty_log(ledger_context):
    honest_log()
    triggers_drop(connection)
    sql("DELETE FROM ledger_checkpoint")
    sql("DELETE FROM ledger_entry")
    sql("DELETE FROM ledger_node")

    status, report = _verify()

    assert status == 1
    assert report["first_bad_index"] == 0
    assert "holds checkpoint 30" in report["reason"]


@pytest.mark.django_db
def test_a_pinned_checkpoint_anchors_verify(ledger_context, tmp_path, settings):
    honest_log()
    pinned = tmp_path / "checkpoint.txt"
    pinned.write_text(checkpoint_published())
    triggers_drop(connection)
    roll_back()
    # A witness that forgot: only the pinned checkpoint remembers size 30.
    settings.ONECARD_LEDGER_LOCAL_WITNESS_DIR = tmp_path / "another-witness"

    status, report = _verify("--checkpoint", str(pinned))

    assert status == 1
    assert report["first_bad_index"] == 10
    assert "entries 10 to 29 are missing" in report["reason"]


@pytest.mark.django_db
def test_a_pinned_checkpoint_not_signed_by_the_log_fails(ledger_context, tmp_path):
    honest_log()
    pinned = tmp_path / "checkpoint.txt"
    pinned.write_text(checkpoint_published().replace("\n30\n", "\n31\n"))

    status, report = _verify("--checkpoint", str(pinned))

    assert status == 1
    assert "not a checkpoint signed by the log" in report["reason"]


@pytest.mark.django_db
def test_the_sequencer_refuses_to_sign_a_log_rolled_back_below_what_the_witnesses_cosigned(ledger_context):
    honest_log()
    triggers_drop(connection)
    roll_back()

    with pytest.raises(
        LogTampered,
        match=r"checkpoint 30, held by the witnesses' record .* in the database \(10\)",
    ):
        sequence()

    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == [10]


@pytest.mark.django_db
def test_the_tile_storage_alone_keeps_the_sequencer_from_signing_a_rolled_back_log(ledger_context):
    from ledger import tiles

    honest_log()
    tiles.tiles_publish()
    tiles.tiles_storage().delete(tiles.WITNESSED_NAME)
    triggers_drop(connection)
    roll_back()

    with pytest.raises(LogTampered, match="checkpoint 30, held by the tile storage, is beyond"):
        sequence()


@pytest.mark.django_db
def test_a_deleted_checkpoint_that_a_witness_cosigned_is_named(ledger_context):
    honest_log()
    triggers_drop(connection)
    sql("DELETE FROM ledger_checkpoint WHERE tree_size = 20")

    status, report = _verify()

    assert status == 1
    assert "checkpoint 20, cosigned by" in report["reason"]
    assert report["first_bad_index"] == 10
