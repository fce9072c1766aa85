"""Move pending entries into the append-only log and sign a checkpoint.

Each batch is one transaction: take pending rows, give them the next
contiguous indexes, store their leaves and every subtree they complete, sign a
checkpoint and delete the pending rows. A crash anywhere in a batch rolls all
of it back, so the pending rows stay and the next run resumes from the last
committed entry. On PostgreSQL a transaction-scoped advisory lock lets one
sequencer in at a time; on SQLite ``BEGIN IMMEDIATE`` does the same. The
primary keys on ``Entry.index`` and ``Checkpoint.tree_size`` are the
compare-and-swap behind both: a second writer of the same index fails.

The sequencer trusts nothing stored beyond its last signed checkpoint. Before
a batch it checks that checkpoint's signature, that the stored subtrees it
will build on hash to the checkpoint's root, and that no entry or subtree row
lies beyond it: the sequencer writes entries, subtrees and their checkpoint in
one transaction, so such a row was written by someone else. It then refuses
(``LogTampered``), logs the error and raises an alert, and signs nothing until
an operator has looked. New leaves and subtrees are computed only from the
pending rows the batch itself takes.

The sequencer works through its own database alias
(``settings.ONECARD_LEDGER_SEQUENCER_DATABASE``): in production a role that
alone may write the log's tables (docs/operations.md).
"""

import base64
import datetime
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC
from json.encoder import encode_basestring as _quote

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from ledger import index as subject_index
from ledger import leaves, merkle, note, tiles, triggers
from ledger.alerts import alert_raise
from ledger.errors import LedgerError
from ledger.models import Alert, Checkpoint, Entry, Node, PendingEntry, PreviousCheckpoint
from ledger.tools import tlog

logger = logging.getLogger(__name__)

# "onecard" in ASCII: the advisory lock that only sequencers take.
SEQUENCER_LOCK = 0x6F6E6563617264
BATCH_SIZE = 5000
# While a backlog lasts, the tiles are written every this many batches (and when it is sequenced).
TILES_EVERY_BATCHES = 20

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
    "seal_commitment",
    "unseal_on",
)


class LogTampered(LedgerError):
    """The stored log is not what the sequencer signed: it refuses to sign on top of it."""


def sequencer_database() -> str:
    """Return the database alias the sequencer writes through."""
    return getattr(settings, "ONECARD_LEDGER_SEQUENCER_DATABASE", "default")


@dataclass(frozen=True)
class SealResult:
    sequenced: int
    tree_size: int
    root: bytes
    locked_out: bool = False


def entry_bytes(*, index: int, row: dict) -> bytes:
    """Return the canonical JSON bytes of one entry: sorted keys, no spaces, UTF-8.

    A sealed access (ledger.sealing) holds only its subject, chain fields and seal: commitment and date.
    """
    if row.get("seal_commitment") is not None:
        sealed = {
            "commitment": base64.b64encode(bytes(row["seal_commitment"])).decode(),
            "unseal_on": row["unseal_on"].isoformat(),
        }
        return json.dumps(
            {
                "index": index,
                "sealed": sealed,
                "subject": row["subject"],
                "subject_prev": row["subject_prev"],
                "subject_seq": row["subject_seq"],
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    # The same bytes as json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), written out
    # key by key in sorted order with json's own string encoder: twice as fast, and the sequencer writes
    # every entry through here (tests/ledger/test_sequencer.py checks the two agree on any text).
    case_id, previous = row["case_id"], row["subject_prev"]
    return (
        f'{{"action":{_quote(row["action"])},"actor":{{"id":{_quote(row["actor_id"])},"role":{_quote(row["role"])},'
        f'"type":{_quote(row["actor_type"])}}},"case_id":{_quote(case_id) if case_id else "null"},'
        f'"channel":{_quote(row["channel"])},"index":{int(index)},"object":{_quote(row["object"])},'
        f'"outcome":{_quote(row["outcome"])},"purpose":{_quote(row["purpose"])},'
        f'"request_id":{_quote(row["request_id"])},"subject":{_quote(row["subject"])},'
        f'"subject_prev":{"null" if previous is None else int(previous)},"subject_seq":{int(row["subject_seq"])},'
        f'"time":"{_utc_text(row["time"])}"}}'
    ).encode()


def _utc_text(moment: datetime.datetime | str) -> str:
    """Return MOMENT in UTC as 2026-01-31T12:00:00.000000Z (already so when PostgreSQL wrote it: TAKE_SQL)."""
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None or moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def signing_key():
    """Return the log's Ed25519 private key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(settings.ONECARD_LEDGER_SIGNING_KEY[:32])


def log_verifier_key() -> str:
    """Return the note verifier key that checks this log's checkpoints."""
    return note.verifier_key(settings.ONECARD_LEDGER_ORIGIN, note.public_bytes(signing_key()))


def frontier_load(size: int, *, using: str = "default") -> merkle.Frontier:
    """Return the frontier of the stored tree of SIZE leaves, read in two queries."""
    subtrees = merkle.range_subtrees(0, size)
    return merkle.Frontier(size, subtree_hashes(subtrees, using=using))


def subtree_hashes(subtrees: list[tuple[int, int]], *, using: str = "default") -> list[bytes]:
    """Return the stored hashes of SUBTREES (level, position), in order."""
    leaves = [position for level, position in subtrees if level == 0]
    keys = {merkle.node_key(level, position): (level, position) for level, position in subtrees if level > 0}
    found = {}
    if leaves:
        rows = Entry.objects.using(using).filter(index__in=leaves).values_list("index", "leaf_hash")
        found.update(((0, index), bytes(value)) for index, value in rows)
    if keys:
        rows = Node.objects.using(using).filter(key__in=list(keys)).values_list("key", "hash")
        found.update((keys[key], bytes(value)) for key, value in rows)
    try:
        return [found[subtree] for subtree in subtrees]
    except KeyError as error:
        raise LookupError(f"stored subtree {error.args[0]} is missing") from None


# The frontier after the last batch this process committed: (size, root, hashes).
# A frontier is a function of the leaves, as the root is, so when the latest
# checkpoint still has this size and root the next batch starts from it
# instead of reading its subtrees back; any other state reads them and checks
# them against the signed root.
_last_frontier: tuple[int, bytes, list[bytes]] | None = None


def sequence(*, batch_size: int = BATCH_SIZE, wait: bool = True) -> SealResult:
    """Sequence every pending entry in batches, signing a checkpoint after each; return the last state.

    Raise ``LogTampered`` (after logging it and raising an alert) when the
    stored log is not what the last signed checkpoint says.
    """
    global _last_frontier
    using = sequencer_database()
    sequenced = unpublished = 0
    try:
        while True:
            try:
                with transaction.atomic(using=using):
                    if not _lock(using, wait=wait):
                        latest = Checkpoint.objects.using(using).order_by("-tree_size").first()
                        size, root = (latest.tree_size, bytes(latest.root_hash)) if latest else (0, merkle.EMPTY_ROOT)
                        return SealResult(sequenced, size, root, locked_out=True)
                    count, size, root, frontier = _sequence_batch(using, batch_size)
            except LogTampered as error:
                _last_frontier = None
                subject_index.forget()
                _refusal_report(str(error))
                raise
            except BaseException:
                subject_index.forget()
                raise
            unpublished += 1
            # Tiles once the backlog is sequenced, or every TILES_EVERY_BATCHES batches while it lasts:
            # a batch's partial tiles would be rewritten by the next one at once.
            if count < batch_size or unpublished >= TILES_EVERY_BATCHES:
                transaction.on_commit(tiles.tiles_publish_after_commit, using=using)
                unpublished = 0
            if frontier is not None:
                _last_frontier = (frontier.size, root, list(frontier.hashes))
            sequenced += count
            if count < batch_size:
                return SealResult(sequenced, size, root)
    finally:
        if unpublished:  # batches committed before a refusal, an error or another sequencer's turn
            try:
                transaction.on_commit(tiles.tiles_publish_after_commit, using=using)
            except Exception:  # never hide why the sequencer stopped; the next run writes the tiles
                logger.exception("tiles: not published after the sequencer stopped")


def _refusal_report(message: str) -> None:
    """Log the refusal and raise one alert for it (not one per sweep)."""
    text = f"The sequencer refused to sign: {message}"
    logger.error("ledger: %s", text)
    if not Alert.objects.filter(message=text).exists():
        alert_raise(message=text)


def _lock(using: str, *, wait: bool) -> bool:
    connection = connections[using]
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
# set_config marks this transaction as the sequencer's for the pending table's
# DELETE trigger (ledger.triggers); the database role is what really keeps
# everyone else out.
# PostgreSQL writes the time as the entry spells it, which saves parsing it and writing it out again.
_TIME_TEXT = """to_char("time" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
TAKE_SQL = f"""
    DELETE FROM ledger_pendingentry
    WHERE id IN (SELECT id FROM ledger_pendingentry ORDER BY id LIMIT %s)
    RETURNING {", ".join(_TIME_TEXT if field == "time" else f'"{field}"' for field in _PENDING_FIELDS)}
"""
STATE_SQL = """
    SELECT (SELECT max("index") FROM ledger_entry),
           (SELECT max(key) FROM ledger_node),
           (SELECT max(version) FROM ledger_indexnode),
           tree_size, root_hash, index_root, note
    FROM (SELECT 1) AS one
    LEFT JOIN (SELECT tree_size, root_hash, index_root, note FROM ledger_checkpoint ORDER BY tree_size DESC LIMIT 1)
    AS latest ON true
"""


def _pending_take(using: str, batch_size: int) -> list[dict]:
    """Return up to BATCH_SIZE pending rows in id order, deleted in this transaction."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(triggers.SEQUENCING_SQL)
            cursor.execute(TAKE_SQL, [batch_size])
            rows = [dict(zip(_PENDING_FIELDS, row, strict=True)) for row in cursor.fetchall()]
            cursor.execute(triggers.SEQUENCING_END_SQL)
        rows.sort(key=lambda row: row["id"])
        return rows
    rows = list(PendingEntry.objects.using(using).order_by("id").values(*_PENDING_FIELDS)[:batch_size])
    if rows:
        with triggers.sequencing():
            PendingEntry.objects.using(using).filter(id__in=[row["id"] for row in rows]).delete()
    return rows


def _signed_state(using: str) -> tuple[int, bytes | None, merkle.Frontier, bytes | None]:
    """Return the size, root, frontier and index root of the last signed checkpoint, once the stored log matches it."""
    with connections[using].cursor() as cursor:
        cursor.execute(STATE_SQL)
        last, last_key, last_version, size, root, index_root, signed = cursor.fetchone()
    if size is None:
        size = 0
    else:
        root = bytes(root)
        index_root = bytes(index_root) if index_root is not None else None
        try:
            body = note.note_verify(signed, log_verifier_key())
        except note.NoteError:
            raise LogTampered(f"checkpoint {size} is not signed by the log key") from None
        if body != note.checkpoint_body(settings.ONECARD_LEDGER_ORIGIN, size, root, index_root):
            raise LogTampered(f"checkpoint {size}'s stored size, root or index root differs from its signed note")
    if last_version is not None and last_version > size:
        raise LogTampered(f"index nodes of tree size {last_version} lie beyond the last signed checkpoint ({size})")
    if last is not None and last >= size:
        raise LogTampered(
            f"entries {size} to {last} lie beyond the last signed checkpoint ({size}) and were not written "
            "by the sequencer"
        )
    if last_key is not None and last_key >= size << 6:
        raise LogTampered(
            f"a subtree row ending at entry {last_key >> 6} lies beyond the last signed checkpoint ({size})"
        )
    if (last + 1 if last is not None else 0) < size:
        raise LogTampered(f"entries {0 if last is None else last + 1} to {size - 1} of checkpoint {size} are missing")
    if root is None:
        return 0, None, merkle.Frontier(), None
    known = _last_frontier
    if known is not None and known[0] == size and known[1] == root:
        return size, root, merkle.Frontier(size, known[2]), index_root
    try:
        frontier = frontier_load(size, using=using)
    except LookupError as error:
        raise LogTampered(f"{error}, under checkpoint {size}") from None
    if frontier.root() != root:
        raise LogTampered(f"the stored subtrees of the first {size} entries do not hash to checkpoint {size}'s root")
    return size, root, frontier, index_root


# The checkpoints held outside the database that this process last found the log extends, with the
# signed state it checked them against: the check costs two queries only when either changes.
_outside_checked: tuple | None = None


def _outside_check(using: str, size: int, root: bytes | None) -> None:
    """Refuse unless the signed log extends every checkpoint of this log held outside its database.

    The database is the operator's to roll back: delete the newest entries and
    checkpoints, and the last signed state the sequencer reads is an older one.
    What the tile storage published and what the witnesses cosigned is not in
    the database, so the sequencer signs only on top of a log that extends it.
    """
    global _outside_checked
    held = tiles.checkpoints_held_outside()
    if _outside_checked == (held, size, root):
        return
    for source, held_size, held_root in held:
        if held_size > size:
            raise LogTampered(
                f"checkpoint {held_size}, held by {source}, is beyond the newest signed checkpoint in the database "
                f"({size}): the log was rolled back, and signing on top of it would fork what was published"
            )
        ranges = merkle.consistency_ranges(held_size, size)
        try:
            hashes = subtree_hashes(
                [subtree for start, end in ranges for subtree in merkle.range_subtrees(start, end)], using=using
            )
        except LookupError as error:
            raise LogTampered(f"{error}, under checkpoint {size}") from None
        hashes, path = iter(hashes), []
        for start, end in ranges:
            path.append(merkle.fold([next(hashes) for _ in merkle.range_subtrees(start, end)]))
        if not tiles.tlog.verify_consistency(held_size, size, held_root, root or merkle.EMPTY_ROOT, path):
            raise LogTampered(
                f"the signed log of {size} entries does not extend checkpoint {held_size} held by {source}: it forked"
            )
    _outside_checked = (held, size, root)


def _sequence_batch(using: str, batch_size: int) -> tuple[int, int, bytes, merkle.Frontier | None]:
    size, root, frontier, _ = _signed_state(using)
    _outside_check(using, size, root)
    pending = _pending_take(using, batch_size)
    if not pending and root is not None:
        return 0, size, root, None
    # Each entry names its subject's running count and previous entry: the chain heads are the index's leaves.
    subjects = list(dict.fromkeys(row["subject"] for row in pending))
    try:
        state = subject_index.state_open(
            using=using, size=size, log_root=root, log_key=log_verifier_key(), frontier_load=frontier_load
        )
        heads = state.heads(subjects)
    except subject_index.IndexTampered as error:
        raise LogTampered(str(error)) from None
    entries, nodes, public = [], [], []
    first = frontier.size
    if size == 0:
        start = _log_start(using)
        if start is not None:
            public.append(leaves.leaf_bytes(entry_bytes=start, salt=b""))
            leaf = merkle.leaf_hash(public[-1])
            frontier.append(leaf, nodes)
            entries.append((0, "", start, leaf, b""))
    # The loop runs once per entry: leaves.leaf_bytes and merkle.leaf_hash written out (a salted
    # commitment leaf, then its RFC 9162 leaf hash); tests/ledger/test_sequencer.py recomputes both
    # from the stored entries with the test suite's own code (tests/ledger/brute.py).
    sha256, commitment, domain = hashlib.sha256, bytes([tlog.LEAF_COMMITMENT]), tlog.COMMITMENT_DOMAIN
    append_public, append_entry, append_leaf = public.append, entries.append, frontier.append
    for row, salt in zip(pending, leaves.salts_new(len(pending)), strict=True):
        index = frontier.size
        subject = row["subject"]
        count, last = heads[subject]
        row["subject_seq"], row["subject_prev"] = count + 1, last
        heads[subject] = (count + 1, index)
        data = entry_bytes(index=index, row=row)
        public_leaf = commitment + sha256(domain + salt + data).digest()
        append_public(public_leaf)
        leaf = sha256(b"\x00" + public_leaf).digest()
        append_leaf(leaf, nodes)
        append_entry((index, subject, data, leaf, salt))
    _insert(using, entries, nodes)
    # Once committed, the tiles are built from these leaves rather than read back and hashed again.
    hashes = [entry[3] for entry in entries]
    transaction.on_commit(lambda: tiles.tiles_offer(first, public, hashes), using=using)
    state.advance(heads, size=frontier.size)
    # Only an index checkpoint signs (and stores) the map: see ledger.index.
    index_root = state.fold(using=using) if state.due(pending_left=_pending_left(using)) else None
    root = frontier.root()
    checkpoint_sign(tree_size=frontier.size, root=root, index_root=index_root, using=using)
    subject_index.remember(state, size=frontier.size, log_root=root)
    return len(entries), frontier.size, root, frontier


def _pending_left(using: str) -> bool:
    return PendingEntry.objects.using(using).exists()


def _log_start(using: str) -> bytes | None:
    """Return the bytes of leaf 0 when this log continues a sealed previous one (migration 0008), else None."""
    final = PreviousCheckpoint.objects.using(using).order_by("-tree_size").values_list("note", flat=True).first()
    if final is None:
        return None
    if final.split("\n", 1)[0] == settings.ONECARD_LEDGER_ORIGIN:
        raise LogTampered(
            f"the previous log was signed under the origin {settings.ONECARD_LEDGER_ORIGIN!r}: the new log needs "
            "another (ONECARD_LEDGER_ORIGIN), or the witnesses would see a fork"
        )
    return leaves.log_start_bytes(previous_checkpoint=final)


def _insert(using: str, entries: list[tuple], nodes: list[tuple]) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.copy('COPY ledger_entry ("index", subject, entry_bytes, leaf_hash, salt) FROM STDIN') as copy:
                for row in entries:
                    copy.write_row(row)
            with cursor.copy("COPY ledger_node (key, hash) FROM STDIN") as copy:
                for row in nodes:
                    copy.write_row(row)
        return
    Entry.objects.using(using).bulk_create(
        [Entry(index=i, subject=s, entry_bytes=d, leaf_hash=h, salt=t) for i, s, d, h, t in entries], batch_size=1000
    )
    Node.objects.using(using).bulk_create([Node(key=k, hash=h) for k, h in nodes], batch_size=2000)


def checkpoint_sign(
    *, tree_size: int, root: bytes, index_root: bytes | None = None, using: str = "default"
) -> Checkpoint:
    """Sign and store the checkpoint of the first TREE_SIZE entries, with the subjects' index root if given."""
    body = note.checkpoint_body(settings.ONECARD_LEDGER_ORIGIN, tree_size, root, index_root)
    signed = note.note_sign(body, settings.ONECARD_LEDGER_ORIGIN, signing_key())
    checkpoint = Checkpoint(
        tree_size=tree_size, root_hash=root, index_root=index_root, note=signed, created_at=timezone.now()
    )
    checkpoint.save(using=using)
    return checkpoint
