"""The tamper classes of issue 21, each tried as an insider with database access would.

Each class is one ``Tamper``: raw SQL as the attacker runs it, whether the
database refuses it outright ("prevented") or it goes through and must be
caught ("detected"), and on which databases it applies. Every test then runs
the sequencer and ``ledger verify`` and checks that nothing forged was ever
signed. The list is meant to grow: a mirror or a browser check can take the
same ``TAMPERS`` and add its own assertion.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from ledger import merkle, note
from ledger.api import record
from ledger.models import Alert, Checkpoint, Entry, Node
from ledger.publication import checkpoint_published
from ledger.sequencer import LogTampered, log_verifier_key, sequence
from ledger.witnessing import checkpoints_push
from tests.ledger.database import triggers_drop

SIZE = 30  # sealed in batches of 10: checkpoints 10, 20 and 30, the last one witnessed


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _entry(index):
    return Entry.objects.get(index=index)


def _forge(index, *, leaf=False, subject=None):
    data = bytes(_entry(index).entry_bytes).replace(f"object {index}".encode(), b"object forged")
    if leaf:
        _sql(
            'UPDATE ledger_entry SET entry_bytes = %s, leaf_hash = %s WHERE "index" = %s',
            [data, merkle.leaf_hash(data), index],
        )
    else:
        _sql('UPDATE ledger_entry SET entry_bytes = %s WHERE "index" = %s', [data, index])


def _nodes_rebuild():
    """Recompute every stored subtree from the stored leaves, as a careful insider would."""
    _sql("DELETE FROM ledger_node")
    frontier, nodes = merkle.Frontier(), []
    for leaf in Entry.objects.order_by("index").values_list("leaf_hash", flat=True):
        frontier.append(bytes(leaf), nodes)
    Node.objects.bulk_create([Node(key=key, hash=value) for key, value in nodes])


def _append_forged(*, with_subtree):
    """INSERT entry SIZE as if sequenced: canonical bytes, its leaf and (optionally) a subtree row."""
    honest = json.loads(bytes(_entry(SIZE - 1).entry_bytes))
    data = json.dumps(
        {**honest, "index": SIZE, "object": "object forged"}, sort_keys=True, separators=(",", ":")
    ).encode()
    leaf = merkle.leaf_hash(data)
    _sql(
        'INSERT INTO ledger_entry ("index", subject, entry_bytes, leaf_hash) VALUES (%s, %s, %s, %s)',
        [SIZE, honest["subject"], data, leaf],
    )
    if with_subtree:
        # Entry 30 completes the two-leaf subtree of entries 30 and 31 only with 31; insert a level-1 node at 31.
        _sql("INSERT INTO ledger_node (key, hash) VALUES (%s, %s)", [(SIZE + 1) << 6 | 1, merkle.node_hash(leaf, leaf)])


def _swap(first, second):
    a, b = _entry(first), _entry(second)
    for target, source in ((first, b), (second, a)):
        _sql(
            'UPDATE ledger_entry SET entry_bytes = %s, leaf_hash = %s, subject = %s WHERE "index" = %s',
            [bytes(source.entry_bytes), bytes(source.leaf_hash), source.subject, target],
        )


def _consistent_rewrite():
    """Rewrite entry 17 with its leaf and every subtree, and delete the checkpoints that no longer match."""
    _forge(17, leaf=True)
    _nodes_rebuild()
    _sql("DELETE FROM ledger_cosignature WHERE tree_size > 10")
    _sql("DELETE FROM ledger_checkpoint WHERE tree_size > 10")


def _roll_back():
    """Go back to checkpoint 10: delete everything after it."""
    _sql("DELETE FROM ledger_cosignature WHERE tree_size > 10")
    _sql("DELETE FROM ledger_checkpoint WHERE tree_size > 10")
    _sql('DELETE FROM ledger_entry WHERE "index" >= 10')
    _sql("DELETE FROM ledger_node WHERE key >= %s", [10 << 6])


def _disable_triggers_and_rewrite():
    if connection.vendor == "postgresql":
        _sql("ALTER TABLE ledger_entry DISABLE TRIGGER ALL")
    else:
        triggers_drop(connection)
    _forge(5)


def _replica_role_delete():
    _sql("SET LOCAL session_replication_role = replica")
    _sql('DELETE FROM ledger_entry WHERE "index" = 5')


@dataclass(frozen=True)
class Tamper:
    name: str
    perform: Callable[[], None]
    # "prevented": the database refuses it. "detected": it goes through and verify fails.
    outcome: str
    # Triggers lifted first, as a superuser or owner would (only for "detected").
    lift: bool = True
    vendors: tuple[str, ...] = ("postgresql", "sqlite")
    # The operator removed everything after a checkpoint, so the sequencer signs a fork from there:
    # only what is held outside (the witnesses, a pinned checkpoint) can tell, and they refuse it.
    forks: bool = False


TAMPERS = [
    Tamper("rewrite an entry", lambda: _forge(17), "detected"),
    Tamper("rewrite an entry with its leaf", lambda: _forge(17, leaf=True), "detected"),
    Tamper(
        "rewrite an entry with its leaf and subtrees", lambda: (_forge(17, leaf=True), _nodes_rebuild()), "detected"
    ),
    Tamper("swap two entries", lambda: _swap(5, 21), "detected"),
    Tamper("delete a middle entry", lambda: _sql('DELETE FROM ledger_entry WHERE "index" = 12'), "detected"),
    Tamper("delete the tail", lambda: _sql('DELETE FROM ledger_entry WHERE "index" >= 25'), "detected"),
    Tamper(
        "change the subject column",
        lambda: _sql("UPDATE ledger_entry SET subject = 'x' WHERE \"index\" = 6"),
        "detected",
    ),
    Tamper(
        "change a node",
        lambda: _sql("UPDATE ledger_node SET hash = %s WHERE key = %s", [b"\0" * 32, (23 << 6) | 3]),
        "detected",
    ),
    Tamper(
        "change a checkpoint",
        lambda: _sql("UPDATE ledger_checkpoint SET root_hash = %s WHERE tree_size = 20", [b"\0" * 32]),
        "detected",
    ),
    Tamper("roll back to an older checkpoint", _roll_back, "detected", forks=True),
    Tamper(
        "append past the last checkpoint with its subtree",
        lambda: _append_forged(with_subtree=True),
        "detected",
        lift=False,
    ),
    Tamper(
        "append past the last checkpoint without a subtree",
        lambda: _append_forged(with_subtree=False),
        "detected",
        lift=False,
    ),
    Tamper("delete one checkpoint", lambda: _sql("DELETE FROM ledger_checkpoint WHERE tree_size = 20"), "prevented"),
    Tamper(
        "delete the newest checkpoint, triggers lifted",
        lambda: _sql("DELETE FROM ledger_checkpoint WHERE tree_size = 30"),
        "detected",
    ),
    Tamper("delete every checkpoint", lambda: _sql("DELETE FROM ledger_checkpoint"), "detected"),
    Tamper("a consistent rewrite with the later checkpoints deleted", _consistent_rewrite, "detected"),
    Tamper("delete a pending row", lambda: _sql("DELETE FROM ledger_pendingentry"), "prevented"),
    Tamper("edit a pending row", lambda: _sql("UPDATE ledger_pendingentry SET subject = 'x'"), "prevented"),
    Tamper("disable the triggers", _disable_triggers_and_rewrite, "detected", lift=False),
    Tamper("session_replication_role = replica", _replica_role_delete, "prevented", vendors=("postgresql",)),
    Tamper("TRUNCATE", lambda: _sql("TRUNCATE ledger_entry CASCADE"), "prevented", vendors=("postgresql",)),
    Tamper(
        "TRUNCATE the pending table", lambda: _sql("TRUNCATE ledger_pendingentry"), "prevented", vendors=("postgresql",)
    ),
    Tamper("UPDATE", lambda: _sql("UPDATE ledger_entry SET subject = 'x'"), "prevented"),
    Tamper("DELETE", lambda: _sql("DELETE FROM ledger_entry"), "prevented"),
]


def _verify(*args):
    out = StringIO()
    try:
        call_command("ledger", "verify", "--json", *args, stdout=out)
    except SystemExit as exit:
        return exit.code, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


def _honest_log():
    for n in range(SIZE):
        record(action="cards.residents.lookup", subject=f"resident:{n}", object=f"object {n}")
    sequence(batch_size=10)
    checkpoints_push()
    record(action="cards.residents.lookup", subject="resident:pending", object="waiting")
    return [bytes(leaf) for leaf in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]


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
    honest = _honest_log()

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
    if not tamper.forks:
        _signed_only_honest_trees(honest)
    # The witnesses cosign nothing forged: whatever is published (if the operator left anything) is the honest tree.
    now_published = checkpoint_published()
    if now_published is not None:
        _, size, root = note.checkpoint_parse(note.note_verify(now_published, log_verifier_key()))
        assert size >= SIZE
        assert root == _root(honest[:size] + _stored_leaves(SIZE, size))


@pytest.mark.django_db
def test_the_sequencer_refuses_an_inserted_entry_and_raises_one_alert(ledger_context):
    _honest_log()
    _append_forged(with_subtree=False)

    for _ in range(2):
        with pytest.raises(LogTampered, match="entries 30 to 30 lie beyond the last signed checkpoint"):
            sequence()

    assert Checkpoint.objects.order_by("-tree_size").first().tree_size == SIZE
    assert Alert.objects.filter(message__contains="refused to sign").count() == 1


@pytest.mark.django_db
def test_healthz_shows_the_stored_log_beyond_its_checkpoint(client, ledger_context):
    _honest_log()
    _append_forged(with_subtree=True)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert "log" in response.json()["failing"]


@pytest.mark.django_db
def test_deleting_every_checkpoint_never_verifies_as_an_empty_log(ledger_context):
    _honest_log()
    triggers_drop(connection)
    _sql("DELETE FROM ledger_checkpoint")
    _sql("DELETE FROM ledger_entry")
    _sql("DELETE FROM ledger_node")

    status, report = _verify()

    assert status == 1
    assert report["first_bad_index"] == 0
    assert "holds checkpoint 30" in report["reason"]


@pytest.mark.django_db
def test_a_pinned_checkpoint_anchors_verify(ledger_context, tmp_path, settings):
    _honest_log()
    pinned = tmp_path / "checkpoint.txt"
    pinned.write_text(checkpoint_published())
    triggers_drop(connection)
    _roll_back()
    # A witness that forgot: only the pinned checkpoint remembers size 30.
    settings.ONECARD_LEDGER_LOCAL_WITNESS_DIR = tmp_path / "another-witness"

    status, report = _verify("--checkpoint", str(pinned))

    assert status == 1
    assert report["first_bad_index"] == 10
    assert "entries 10 to 29 are missing" in report["reason"]


@pytest.mark.django_db
def test_a_pinned_checkpoint_not_signed_by_the_log_fails(ledger_context, tmp_path):
    _honest_log()
    pinned = tmp_path / "checkpoint.txt"
    pinned.write_text(checkpoint_published().replace("\n30\n", "\n31\n"))

    status, report = _verify("--checkpoint", str(pinned))

    assert status == 1
    assert "not a checkpoint signed by the log" in report["reason"]
