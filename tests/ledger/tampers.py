"""The tamper classes, as an insider with database access would try them; shared by the tamper tests.

Each class is one ``Tamper``: raw SQL as the attacker runs it, whether the
database refuses it outright ("prevented") or it goes through and must be
caught ("detected"), and on which databases it applies. ``ledger verify``
(tests/ledger/test_tamper.py), a mirror process and the resident's browser
check (tests/ledger/test_tamper_outside.py) each take the same ``TAMPERS``.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from ledger import merkle
from ledger.api import record
from ledger.models import Entry, Node, PendingEntry
from ledger.sequencer import sequence
from ledger.witnessing import checkpoints_push
from tests.ledger.brute import public_leaf
from tests.ledger.database import triggers_drop

SIZE = 30  # sealed in batches of 10: checkpoints 10, 20 and 30, the last one witnessed


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _entry(index):
    return Entry.objects.get(index=index)


def forge(index, *, leaf=False, subject=None):
    entry = _entry(index)
    data = bytes(entry.entry_bytes).replace(f"object {index}".encode(), b"object forged")
    if leaf:
        sql(
            'UPDATE ledger_entry SET entry_bytes = %s, leaf_hash = %s WHERE "index" = %s',
            [data, merkle.leaf_hash(public_leaf(data, bytes(entry.salt))), index],
        )
    else:
        sql('UPDATE ledger_entry SET entry_bytes = %s WHERE "index" = %s', [data, index])


def _nodes_rebuild():
    """Recompute every stored subtree from the stored leaves, as a careful insider would."""
    sql("DELETE FROM ledger_node")
    frontier, nodes = merkle.Frontier(), []
    for leaf in Entry.objects.order_by("index").values_list("leaf_hash", flat=True):
        frontier.append(bytes(leaf), nodes)
    Node.objects.bulk_create([Node(key=key, hash=value) for key, value in nodes])


def append_forged(*, with_subtree):
    """INSERT entry SIZE as if sequenced: canonical bytes, its leaf and (optionally) a subtree row."""
    honest = json.loads(bytes(_entry(SIZE - 1).entry_bytes))
    data = json.dumps(
        {**honest, "index": SIZE, "object": "object forged"}, sort_keys=True, separators=(",", ":")
    ).encode()
    salt = bytes(32)
    leaf = merkle.leaf_hash(public_leaf(data, salt))
    sql(
        'INSERT INTO ledger_entry ("index", subject, entry_bytes, leaf_hash, salt) VALUES (%s, %s, %s, %s, %s)',
        [SIZE, honest["subject"], data, leaf, salt],
    )
    if with_subtree:
        # Entry 30 completes the two-leaf subtree of entries 30 and 31 only with 31; insert a level-1 node at 31.
        sql("INSERT INTO ledger_node (key, hash) VALUES (%s, %s)", [(SIZE + 1) << 6 | 1, merkle.node_hash(leaf, leaf)])


def _swap(first, second):
    a, b = _entry(first), _entry(second)
    for target, source in ((first, b), (second, a)):
        sql(
            'UPDATE ledger_entry SET entry_bytes = %s, leaf_hash = %s, subject = %s, salt = %s WHERE "index" = %s',
            [bytes(source.entry_bytes), bytes(source.leaf_hash), source.subject, bytes(source.salt), target],
        )


def consistent_rewrite():
    """Rewrite entry 17 with its leaf and every subtree, and delete the checkpoints that no longer match."""
    forge(17, leaf=True)
    _nodes_rebuild()
    sql("DELETE FROM ledger_cosignature WHERE tree_size > 10")
    sql("DELETE FROM ledger_checkpoint WHERE tree_size > 10")


def roll_back():
    """Go back to checkpoint 10: delete everything after it."""
    sql("DELETE FROM ledger_cosignature WHERE tree_size > 10")
    sql("DELETE FROM ledger_checkpoint WHERE tree_size > 10")
    sql('DELETE FROM ledger_entry WHERE "index" >= 10')
    sql("DELETE FROM ledger_node WHERE key >= %s", [10 << 6])
    sql("DELETE FROM ledger_indexnode WHERE version > 10")


def _disable_triggers_and_rewrite():
    if connection.vendor == "postgresql":
        sql("ALTER TABLE ledger_entry DISABLE TRIGGER ALL")
    else:
        triggers_drop(connection)
    forge(5)


def _replica_role_delete():
    sql("SET LOCAL session_replication_role = replica")
    sql('DELETE FROM ledger_entry WHERE "index" = 5')


@dataclass(frozen=True)
class Tamper:
    name: str
    perform: Callable[[], None]
    # "prevented": the database refuses it. "detected": it goes through and verify fails.
    outcome: str
    # Triggers lifted first, as a superuser or owner would (only for "detected").
    lift: bool = True
    vendors: tuple[str, ...] = ("postgresql", "sqlite")


TAMPERS = [
    Tamper("rewrite an entry", lambda: forge(17), "detected"),
    Tamper("rewrite an entry with its leaf", lambda: forge(17, leaf=True), "detected"),
    Tamper("rewrite an entry with its leaf and subtrees", lambda: (forge(17, leaf=True), _nodes_rebuild()), "detected"),
    Tamper("swap two entries", lambda: _swap(5, 21), "detected"),
    Tamper("delete a middle entry", lambda: sql('DELETE FROM ledger_entry WHERE "index" = 12'), "detected"),
    Tamper("delete the tail", lambda: sql('DELETE FROM ledger_entry WHERE "index" >= 25'), "detected"),
    Tamper(
        "change the subject column",
        lambda: sql("UPDATE ledger_entry SET subject = 'x' WHERE \"index\" = 6"),
        "detected",
    ),
    Tamper(
        "change a node",
        lambda: sql("UPDATE ledger_node SET hash = %s WHERE key = %s", [b"\0" * 32, (23 << 6) | 3]),
        "detected",
    ),
    Tamper(
        "change a checkpoint",
        lambda: sql("UPDATE ledger_checkpoint SET root_hash = %s WHERE tree_size = 20", [b"\0" * 32]),
        "detected",
    ),
    Tamper("roll back to an older checkpoint", roll_back, "detected"),
    Tamper(
        "append past the last checkpoint with its subtree",
        lambda: append_forged(with_subtree=True),
        "detected",
        lift=False,
    ),
    Tamper(
        "append past the last checkpoint without a subtree",
        lambda: append_forged(with_subtree=False),
        "detected",
        lift=False,
    ),
    Tamper("delete one checkpoint", lambda: sql("DELETE FROM ledger_checkpoint WHERE tree_size = 20"), "prevented"),
    Tamper(
        "delete a witnessed middle checkpoint, triggers lifted",
        lambda: sql("DELETE FROM ledger_checkpoint WHERE tree_size = 20"),
        "detected",
    ),
    Tamper(
        "delete the newest checkpoint, triggers lifted",
        lambda: sql("DELETE FROM ledger_checkpoint WHERE tree_size = 30"),
        "detected",
    ),
    Tamper("delete every checkpoint", lambda: sql("DELETE FROM ledger_checkpoint"), "detected"),
    Tamper("a consistent rewrite with the later checkpoints deleted", consistent_rewrite, "detected"),
    Tamper("delete a pending row", lambda: sql("DELETE FROM ledger_pendingentry"), "prevented"),
    Tamper("edit a pending row", lambda: sql("UPDATE ledger_pendingentry SET subject = 'x'"), "prevented"),
    Tamper("disable the triggers", _disable_triggers_and_rewrite, "detected", lift=False),
    Tamper("session_replication_role = replica", _replica_role_delete, "prevented", vendors=("postgresql",)),
    Tamper("TRUNCATE", lambda: sql("TRUNCATE ledger_entry CASCADE"), "prevented", vendors=("postgresql",)),
    Tamper(
        "TRUNCATE the pending table", lambda: sql("TRUNCATE ledger_pendingentry"), "prevented", vendors=("postgresql",)
    ),
    Tamper("UPDATE", lambda: sql("UPDATE ledger_entry SET subject = 'x'"), "prevented"),
    Tamper("DELETE", lambda: sql("DELETE FROM ledger_entry"), "prevented"),
]


def honest_log(*, pending: bool = True) -> list[bytes]:
    """Seal SIZE accesses in batches of 10, each checkpoint pushed to the witnesses; return the leaf hashes.

    Works inside a test's transaction and in a transactional test alike: each
    batch is its own atomic block, sequenced explicitly (a no-op where its
    commit already ran the sequencer). With PENDING, one more access waits.
    """
    for batch in range(0, SIZE, 10):
        with transaction.atomic():
            for n in range(batch, batch + 10):
                record(action="cards.residents.lookup", subject=f"resident:{n}", object=f"object {n}")
        sequence(batch_size=10)
        checkpoints_push()
    if pending:
        # Straight into the pending table: record() would have the sequencer take it at commit.
        from django.utils import timezone

        PendingEntry.objects.create(
            time=timezone.now(), actor_type="staff", actor_id="s1-test", role="registrar", channel="command",
            action="cards.residents.lookup", purpose="registration", subject="p1-pending", object="waiting",
            outcome="ok", request_id="pending",
        )  # fmt: skip
    return [bytes(leaf) for leaf in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]
