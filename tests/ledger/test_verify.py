import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from ledger.api import record
from ledger.models import Alert, Checkpoint, Entry, Node, VerificationRun
from ledger.sequencer import sequence
from tests.factories import UserFactory
from tests.ledger import brute
from tests.ledger.database import triggers_drop


def _log(count, *, batch_size=5000):
    for n in range(count):
        record(action="cards.residents.lookup", subject=f"resident:{n}", object=f"object {n}")
    sequence(batch_size=batch_size)


def _verify(*args):
    """Run `ledger verify`; return (exit status, stdout)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("ledger", "verify", *args, stdout=out)
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_verify_passes_on_an_intact_log(ledger_context):
    _log(40, batch_size=7)

    status, out = _verify()

    assert status == 0
    assert out.startswith("ok: 40 entries, 6 checkpoints")
    assert VerificationRun.objects.get().ok


@pytest.mark.django_db
def test_verify_json_reports_the_outcome(ledger_context):
    _log(5)

    status, out = _verify("--json")

    assert status == 0
    assert json.loads(out) == {
        "ok": True, "tree_size": 5, "checkpoints_checked": 1, "first_bad_index": None, "reason": "",
        "anchor_size": None, "anchor_source": "",
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("statement", ["UPDATE ledger_entry SET subject = 'x'", "DELETE FROM ledger_entry"])
def test_the_database_refuses_to_change_entries(ledger_context, statement):
    _log(3)

    with pytest.raises(DatabaseError), transaction.atomic():
        _sql(statement)

    assert Entry.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["ledger_node", "ledger_checkpoint"])
def test_the_database_refuses_to_delete_nodes_and_checkpoints(ledger_context, table):
    _log(4)

    with pytest.raises(DatabaseError), transaction.atomic():
        _sql(f"DELETE FROM {table}")


@pytest.mark.django_db
def test_postgresql_refuses_truncate(ledger_context):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL; SQLite's DELETE is covered above")
    _log(3)

    with pytest.raises(DatabaseError), transaction.atomic():
        _sql("TRUNCATE ledger_entry")

    assert Entry.objects.count() == 3


@pytest.mark.django_db
def test_the_model_layer_refuses_update_and_delete(ledger_context):
    from ledger.errors import AppendOnlyViolation

    _log(1)
    entry = Entry.objects.get()

    with pytest.raises(AppendOnlyViolation):
        entry.save()
    with pytest.raises(AppendOnlyViolation):
        entry.delete()


@pytest.mark.django_db
def test_rewriting_one_entry_is_caught_and_named(ledger_context):
    _log(30, batch_size=10)
    triggers_drop(connection)
    forged = bytes(Entry.objects.get(index=17).entry_bytes).replace(b"object 17", b"object 99")

    _sql('UPDATE ledger_entry SET entry_bytes = %s WHERE "index" = 17', [forged])

    status, out = _verify()
    assert status == 1
    assert "first bad entry: 17" in out


@pytest.mark.django_db
def test_rewriting_an_entry_with_fresh_hashes_is_caught_by_the_signed_checkpoint(ledger_context):
    from ledger import merkle

    _log(30, batch_size=10)
    triggers_drop(connection)
    forged = bytes(Entry.objects.get(index=17).entry_bytes).replace(b"object 17", b"object 99")
    salt = bytes(Entry.objects.get(index=17).salt)
    _sql(
        'UPDATE ledger_entry SET entry_bytes = %s, leaf_hash = %s WHERE "index" = 17',
        [forged, merkle.leaf_hash(brute.public_leaf(forged, salt))],
    )
    # Recompute every stored subtree from the forged leaves, as a careful insider would.
    _sql("DELETE FROM ledger_node")
    frontier, nodes = merkle.Frontier(), []
    for leaf in Entry.objects.values_list("leaf_hash", flat=True):
        frontier.append(bytes(leaf), nodes)
    Node.objects.bulk_create([Node(key=key, hash=value) for key, value in nodes])

    status, out = _verify()

    assert status == 1
    assert "first bad entry: 10" in out
    assert "checkpoint 20 does not match entries 10 to 19" in out


@pytest.mark.django_db
def test_deleting_one_entry_is_caught_and_named(ledger_context):
    _log(30)
    triggers_drop(connection)

    _sql('DELETE FROM ledger_entry WHERE "index" = 12')

    status, out = _verify()
    assert status == 1
    assert "first bad entry: 12" in out


@pytest.mark.django_db
def test_swapping_two_entries_is_caught_and_named(ledger_context):
    _log(30)
    triggers_drop(connection)
    first, second = Entry.objects.get(index=5), Entry.objects.get(index=21)

    for target, source in ((5, second), (21, first)):
        _sql(
            'UPDATE ledger_entry SET entry_bytes = %s, leaf_hash = %s, subject = %s WHERE "index" = %s',
            [bytes(source.entry_bytes), bytes(source.leaf_hash), source.subject, target],
        )

    status, out = _verify()
    assert status == 1
    assert "first bad entry: 5" in out


@pytest.mark.django_db
def test_cutting_off_the_tail_is_caught_and_named(ledger_context):
    _log(30)
    triggers_drop(connection)

    _sql('DELETE FROM ledger_entry WHERE "index" >= 25')

    status, out = _verify("--json")
    assert status == 1
    assert json.loads(out)["first_bad_index"] == 25


@pytest.mark.django_db
def test_a_forged_checkpoint_signature_is_caught(ledger_context):
    _log(10)
    triggers_drop(connection)
    checkpoint = Checkpoint.objects.get(tree_size=10)

    _sql("UPDATE ledger_checkpoint SET note = %s WHERE tree_size = 10", [checkpoint.note[:-10] + "AAAAAAAAA\n"])

    status, out = _verify()
    assert status == 1
    assert "first bad entry: 0" in out
    assert "checkpoint 10 is not signed by the log key" in out


@pytest.mark.django_db
def test_hourly_verification_alerts_the_auditors_by_admin_row_and_email(
    ledger_context, mailoutbox, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from ledger.tasks import verify_log

    auditor = UserFactory(email="auditor@example.org")
    # The roles migration (portal/roles.py) already made the auditor group.
    auditor.groups.add(Group.objects.get_or_create(name="auditor")[0])
    UserFactory(email="clerk@example.org")
    _log(10)
    triggers_drop(connection)
    _sql('DELETE FROM ledger_entry WHERE "index" = 3')

    with django_capture_on_commit_callbacks(execute=True):
        verify_log()

    assert "first bad entry: 3" in Alert.objects.get().message
    assert [message.to for message in mailoutbox] == [["auditor@example.org"]]


@pytest.mark.django_db
def test_a_subject_column_that_disagrees_with_the_bytes_is_caught(ledger_context):
    _log(8)
    triggers_drop(connection)

    _sql("UPDATE ledger_entry SET subject = 'p1-hidden' WHERE \"index\" = 6")

    status, out = _verify()
    assert status == 1
    assert "first bad entry: 6" in out
    assert "subject column" in out


@pytest.mark.django_db
def test_a_tampered_stored_subtree_is_caught_and_named(ledger_context):
    _log(30, batch_size=10)
    triggers_drop(connection)
    key = (23 << 6) | 3  # the subtree of entries 16 to 23, completed by entry 23
    _sql("UPDATE ledger_node SET hash = %s WHERE key = %s", [b"\x00" * 32, key])

    status, out = _verify()

    assert status == 1
    assert "first bad entry: 23" in out
    assert "a stored subtree ending here does not match" in out


@pytest.mark.django_db
def test_an_extra_stored_subtree_is_caught_and_named(ledger_context):
    _log(30, batch_size=10)
    triggers_drop(connection)
    _sql("INSERT INTO ledger_node (key, hash) VALUES (%s, %s)", [(12 << 6) | 1, b"\x01" * 32])

    status, out = _verify()

    assert status == 1
    assert "first bad entry: 12" in out


@pytest.mark.django_db
def test_a_bad_subtree_before_a_bad_leaf_in_one_block_is_named_first(ledger_context):
    _log(30, batch_size=30)
    triggers_drop(connection)
    _sql("DELETE FROM ledger_node WHERE key = %s", [(7 << 6) | 3])
    forged = bytes(Entry.objects.get(index=20).entry_bytes).replace(b"object 20", b"object 99")
    _sql('UPDATE ledger_entry SET entry_bytes = %s WHERE "index" = 20', [forged])

    status, out = _verify()

    assert status == 1
    assert "first bad entry: 7" in out


@pytest.mark.django_db
def test_verify_reads_ahead_across_many_chunks_and_still_names_the_first_bad_subtree(ledger_context, monkeypatch):
    # Small chunks: the next one is being fetched while subtree blocks are compared on the same connection.
    from ledger import verification

    monkeypatch.setattr(verification, "CHUNK", 4)
    _log(45, batch_size=9)

    assert _verify()[0] == 0

    triggers_drop(connection)
    _sql("UPDATE ledger_node SET hash = %s WHERE key = %s", [b"\x00" * 32, (31 << 6) | 2])
    status, out = _verify()

    assert status == 1
    assert "first bad entry: 31" in out
    assert "a stored subtree ending here does not match" in out


@pytest.mark.django_db
def test_an_entry_whose_bytes_name_another_index_is_caught(ledger_context):
    _log(6)
    triggers_drop(connection)
    # Entry 4's bytes and leaf hash, moved under index 5: each leaf still matches its bytes.
    _sql(
        "UPDATE ledger_entry SET entry_bytes = other.entry_bytes, leaf_hash = other.leaf_hash, subject = other.subject,"
        " salt = other.salt"
        ' FROM ledger_entry AS other WHERE ledger_entry."index" = 5 AND other."index" = 4'
    )

    status, out = _verify()

    assert status == 1
    assert "first bad entry: 5" in out
    assert "its bytes name another index" in out


@pytest.mark.django_db
def test_every_append_only_table_has_its_triggers_after_all_migrations():
    # A migration that rebuilds a table (SQLite does, to alter a column) must put them back.
    from ledger.triggers import ALL_APPEND_ONLY_TABLES, trigger_names

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            expected = {name for table in ALL_APPEND_ONLY_TABLES for name in trigger_names(table)[:2]}
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'A'")
            expected = {name for table in ALL_APPEND_ONLY_TABLES for name in trigger_names(table)}
        installed = {name for (name,) in cursor.fetchall()}

    assert expected <= installed
