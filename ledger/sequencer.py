"""Move pending entries into the append-only log and sign a checkpoint.

Each batch is one transaction: take pending rows, give them the next
contiguous indexes, store their leaves and every subtree they complete, sign a
checkpoint and delete the pending rows. A crash anywhere in a batch rolls all
of it back, so the pending rows stay and the next run resumes from the last
committed entry. On PostgreSQL a transaction-scoped advisory lock lets one
sequencer in at a time; on SQLite ``BEGIN IMMEDIATE`` does the same. The
primary keys on ``Entry.index`` and ``Checkpoint.tree_size`` are the
compare-and-swap behind both: a second writer of the same index fails.
"""

import json
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ledger import merkle, note, tiles
from ledger.models import Checkpoint, Entry, Node, PendingEntry

# "onecard" in ASCII: the advisory lock that only sequencers take.
SEQUENCER_LOCK = 0x6F6E6563617264
BATCH_SIZE = 5000

_PENDING_FIELDS = (
    "id",
    "time",
    "actor_type",
    "actor_id",
    "role",
    "channel",
    "action",
    "purpose",
    "subject",
    "object",
    "outcome",
    "request_id",
    "case_id",
)


@dataclass(frozen=True)
class SealResult:
    sequenced: int
    tree_size: int
    root: bytes
    locked_out: bool = False


def entry_bytes(*, index: int, row: dict) -> bytes:
    """Return the canonical JSON bytes of one entry: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        {
            "action": row["action"],
            "case_id": row["case_id"] or None,
            "actor": {"id": row["actor_id"], "role": row["role"], "type": row["actor_type"]},
            "channel": row["channel"],
            "index": index,
            "object": row["object"],
            "outcome": row["outcome"],
            "purpose": row["purpose"],
            "request_id": row["request_id"],
            "subject": row["subject"],
            "time": row["time"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def signing_key():
    """Return the log's Ed25519 private key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(settings.ONECARD_LEDGER_SIGNING_KEY[:32])


def log_verifier_key() -> str:
    """Return the note verifier key that checks this log's checkpoints."""
    return note.verifier_key(settings.ONECARD_LEDGER_ORIGIN, note.public_bytes(signing_key()))


def frontier_load(size: int) -> merkle.Frontier:
    """Return the frontier of the stored tree of SIZE leaves, read in two queries."""
    subtrees = merkle.range_subtrees(0, size)
    return merkle.Frontier(size, subtree_hashes(subtrees))


def subtree_hashes(subtrees: list[tuple[int, int]]) -> list[bytes]:
    """Return the stored hashes of SUBTREES (level, position), in order."""
    leaves = [position for level, position in subtrees if level == 0]
    keys = {merkle.node_key(level, position): (level, position) for level, position in subtrees if level > 0}
    found = {}
    if leaves:
        rows = Entry.objects.filter(index__in=leaves).values_list("index", "leaf_hash")
        found.update(((0, index), bytes(value)) for index, value in rows)
    if keys:
        rows = Node.objects.filter(key__in=list(keys)).values_list("key", "hash")
        found.update((keys[key], bytes(value)) for key, value in rows)
    try:
        return [found[subtree] for subtree in subtrees]
    except KeyError as error:
        raise LookupError(f"stored subtree {error.args[0]} is missing") from None


# The frontier after the last batch this process committed: (size, root, hashes).
# A frontier is a function of the leaves, as the root is, so when the latest
# checkpoint still has this size and root the next batch starts from it
# instead of reading its subtrees back; any other state reads them.
_last_frontier: tuple[int, bytes, list[bytes]] | None = None


def sequence(*, batch_size: int = BATCH_SIZE, wait: bool = True) -> SealResult:
    """Sequence every pending entry in batches, signing a checkpoint after each; return the last state."""
    global _last_frontier
    sequenced = 0
    while True:
        with transaction.atomic():
            if not _lock(wait=wait):
                latest = Checkpoint.objects.order_by("-tree_size").first()
                size, root = (latest.tree_size, bytes(latest.root_hash)) if latest else (0, merkle.EMPTY_ROOT)
                return SealResult(sequenced, size, root, locked_out=True)
            count, size, root, frontier = _sequence_batch(batch_size)
        transaction.on_commit(tiles.tiles_publish_after_commit)
        if frontier is not None:
            _last_frontier = (frontier.size, root, list(frontier.hashes))
        sequenced += count
        if count < batch_size:
            return SealResult(sequenced, size, root)


def _lock(*, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
        return cursor.fetchone()[0]


# One statement takes a batch and deletes it: the rows come back only if the
# batch commits, and a crash restores them with the rest of the transaction.
TAKE_SQL = f"""
    DELETE FROM ledger_pendingentry
    WHERE id IN (SELECT id FROM ledger_pendingentry ORDER BY id LIMIT %s)
    RETURNING {", ".join(f'"{field}"' for field in _PENDING_FIELDS)}
"""
STATE_SQL = """
    SELECT (SELECT max("index") FROM ledger_entry),
           (SELECT tree_size FROM ledger_checkpoint ORDER BY tree_size DESC LIMIT 1),
           (SELECT root_hash FROM ledger_checkpoint ORDER BY tree_size DESC LIMIT 1)
"""


def _pending_take(batch_size: int) -> list[dict]:
    """Return up to BATCH_SIZE pending rows in id order, deleted in this transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(TAKE_SQL, [batch_size])
            rows = [dict(zip(_PENDING_FIELDS, row, strict=True)) for row in cursor.fetchall()]
        rows.sort(key=lambda row: row["id"])
        return rows
    rows = list(PendingEntry.objects.order_by("id").values(*_PENDING_FIELDS)[:batch_size])
    if rows:
        PendingEntry.objects.filter(id__in=[row["id"] for row in rows]).delete()
    return rows


def _sequence_batch(batch_size: int) -> tuple[int, int, bytes, merkle.Frontier | None]:
    pending = _pending_take(batch_size)
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL)
        last, signed_size, signed_root = cursor.fetchone()
    size = 0 if last is None else last + 1
    if not pending and signed_size == size:
        return 0, size, bytes(signed_root), None
    # Also reached with nothing pending when entries outran the last checkpoint: sign them now.
    known = _last_frontier
    if known is not None and known[0] == size == signed_size and known[1] == bytes(signed_root):
        frontier = merkle.Frontier(size, known[2])
    else:
        frontier = frontier_load(size)
    entries, nodes = [], []
    for index, row in enumerate(pending, start=size):
        data = entry_bytes(index=index, row=row)
        leaf = merkle.leaf_hash(data)
        frontier.append(leaf, nodes)
        entries.append((index, row["subject"], data, leaf))
    _insert(entries, nodes)
    root = frontier.root()
    checkpoint_sign(tree_size=frontier.size, root=root)
    return len(entries), frontier.size, root, frontier


def _insert(entries: list[tuple], nodes: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.copy('COPY ledger_entry ("index", subject, entry_bytes, leaf_hash) FROM STDIN') as copy:
                for row in entries:
                    copy.write_row(row)
            with cursor.copy("COPY ledger_node (key, hash) FROM STDIN") as copy:
                for row in nodes:
                    copy.write_row(row)
        return
    Entry.objects.bulk_create(
        [Entry(index=i, subject=s, entry_bytes=d, leaf_hash=h) for i, s, d, h in entries], batch_size=1000
    )
    Node.objects.bulk_create([Node(key=k, hash=h) for k, h in nodes], batch_size=2000)


def checkpoint_sign(*, tree_size: int, root: bytes) -> Checkpoint:
    """Sign and store the checkpoint of the first TREE_SIZE entries."""
    body = note.checkpoint_body(settings.ONECARD_LEDGER_ORIGIN, tree_size, root)
    signed = note.note_sign(body, settings.ONECARD_LEDGER_ORIGIN, signing_key())
    checkpoint = Checkpoint(tree_size=tree_size, root_hash=root, note=signed, created_at=timezone.now())
    checkpoint.save()
    return checkpoint
