"""Recompute the whole log from ``entry_bytes`` and compare it with everything stored and signed.

One pass in index order, streaming the entries: each leaf hash is recomputed,
each subtree is recomputed the moment its last leaf arrives and compared with
the stored ones a block of 5,000 entries at a time (before any checkpoint past
the block is trusted), and each checkpoint's root and signature are checked at
its tree size. Every checkpoint root is recomputed from the same leaves,
so consecutive checkpoints are consistent by construction: a log that forked
or rewrote history between two of them fails here.

The local checkpoint table is the operator's to delete from, so it is not the
anchor. Verification also takes checkpoints from outside (``anchors``: those
the witnesses cosigned, or one pinned by the caller): each must be signed by
the log and stored locally with the same root, and the local log must reach
it. Entries or subtrees stored beyond the newest signed checkpoint fail too:
the sequencer writes them with their checkpoint in one transaction, so
someone else wrote them.
"""

import hashlib
import itertools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from ledger import leaves, merkle, note
from ledger.index import CHAIN_FIELDS
from ledger.models import Cosignature, Entry, PreviousCheckpoint, PreviousEntry, PreviousNode
from ledger.sequencer import log_verifier_key, signing_key
from ledger.tools import vindex

CHUNK = 5000
_cursor_names = itertools.count()

# Index and subject columns come back as they are: checking that they appear
# in the row's bytes costs Python less than it cost PostgreSQL, and Python
# does it while the next chunk is being fetched.
ENTRIES_SQL = (
    'SELECT "index", entry_bytes, leaf_hash, subject, salt FROM ledger_entry WHERE "index" < %s ORDER BY "index"'
)


@dataclass(frozen=True)
class Anchor:
    """A checkpoint held outside the log's database: SOURCE names who holds it."""

    source: str
    note: str


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    tree_size: int
    checkpoints_checked: int
    first_bad_index: int | None = None
    reason: str = ""
    anchor_size: int | None = None
    anchor_source: str = ""

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "checkpoints_checked": self.checkpoints_checked,
            "first_bad_index": self.first_bad_index,
            "reason": self.reason,
            "anchor_size": self.anchor_size,
            "anchor_source": self.anchor_source,
        }


class _Bad(Exception):
    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def _stream(sql: str, params: list):
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        # A binary-format server-side cursor in the surrounding transaction: it
        # skips hex-decoding every bytea, the largest cost of the scan after hashing.
        # The next chunk is fetched on a second thread while this one hashes the
        # current chunk: psycopg lets go of the interpreter lock while it waits,
        # so PostgreSQL produces rows on one core as Python hashes on the other
        # instead of each waiting for the other. psycopg connections are
        # thread-safe: a query made meanwhile (a subtree block) waits its turn.
        with (
            connection.connection.cursor(name=f"ledger_verify_{next(_cursor_names)}", binary=True) as cursor,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-verify-fetch") as fetcher,
        ):
            cursor.itersize = CHUNK
            cursor.execute(sql, params)
            ahead = fetcher.submit(cursor.fetchmany, CHUNK)
            while rows := ahead.result():
                ahead = fetcher.submit(cursor.fetchmany, CHUNK)
                yield from rows
        return
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def log_verify(
    *,
    anchors: list[Anchor] = (),
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
    index: bool = True,
):
    """Return whether every leaf, stored subtree and checkpoint of the log recomputes and meets ANCHORS.

    INDEX false skips recomputing the subjects' index roots (the chains are still checked): the log pass alone.
    """
    # Read committed is enough: rows are only ever appended, and the scan stops
    # at the newest checkpoint read first, whose entries committed with it.
    with transaction.atomic():
        checkpoints = list(
            _stream("SELECT tree_size, root_hash, note, index_root FROM ledger_checkpoint ORDER BY tree_size", [])
        )
        target = checkpoints[-1][0] if checkpoints else 0
        if total:
            total(target)
        checked = 0
        anchor_size, anchor_source = None, ""
        try:
            held = _anchors_parse(anchors)
            if held:
                anchor_size, _, anchor_source = max(held, key=lambda item: item[0])
            checked = _verify(checkpoints, target, progress, index)
            _anchors_check(checkpoints, held)
            _cosignatures_check(checkpoints)
            _beyond_check(target)
            _previous_check(target)
        except _Bad as bad:
            return VerificationResult(False, target, checked, bad.index, bad.reason, anchor_size, anchor_source)
    return VerificationResult(True, target, len(checkpoints), anchor_size=anchor_size, anchor_source=anchor_source)


def _anchors_parse(anchors) -> list[tuple[int, bytes, str]]:
    """Return (size, root, source) of each anchor, once the log's signature on it checks out."""
    key, origin = log_verifier_key(), settings.ONECARD_LEDGER_ORIGIN
    held = []
    for anchor in anchors:
        try:
            body = note.note_verify(anchor.note, key)
            anchor_origin, size, root = note.checkpoint_parse(body)
        except note.NoteError as error:
            raise _Bad(
                None, f"the checkpoint from {anchor.source} is not a checkpoint signed by the log: {error}"
            ) from None
        if anchor_origin != origin:
            raise _Bad(None, f"the checkpoint from {anchor.source} is for {anchor_origin!r}, not {origin!r}")
        held.append((size, root, anchor.source))
    return held


def _anchors_check(checkpoints, held) -> None:
    """Fail unless each checkpoint held outside is stored here with the same root, and the log reaches it."""
    local = {size: bytes(root) for size, root, *_ in checkpoints}
    newest = checkpoints[-1][0] if checkpoints else 0
    for size, root, source in sorted(held):
        if size > newest:
            raise _Bad(
                newest,
                f"{source} holds checkpoint {size}, but the local log is signed only up to {newest}: "
                f"entries {newest} to {size - 1} are missing or unsigned here",
            )
        if size not in local:
            below = max((known for known in local if known < size), default=0)
            raise _Bad(below, f"checkpoint {size}, held by {source}, is missing from the local checkpoints")
        if local[size] != root:
            # The stored log recomputes to another root: it forked from what was published,
            # somewhere after the last checkpoint that still matches an anchor.
            matching = [known for known, known_root, _ in held if known < size and local.get(known) == known_root]
            raise _Bad(
                max(matching, default=0),
                f"checkpoint {size} differs from the one {source} holds: the log was rewritten "
                f"after entry {max(matching, default=0) - 1}",
            )


def _cosignatures_check(checkpoints) -> None:
    """Fail if a witness's stored cosignature names a checkpoint the local table no longer has."""
    local = {size for size, *_ in checkpoints}
    orphan = Cosignature.objects.exclude(tree_size__in=local).order_by("tree_size").first()
    if orphan is not None:
        below = max((size for size in local if size < orphan.tree_size), default=0)
        raise _Bad(
            below,
            f"checkpoint {orphan.tree_size}, cosigned by {orphan.witness_name}, is missing from the local checkpoints",
        )


def _previous_check(target: int) -> None:
    """Recompute the sealed previous log (format v1); check that leaf 0 of this log names its final checkpoint."""
    final = PreviousCheckpoint.objects.order_by("-tree_size").first()
    first = Entry.objects.filter(index=0).values_list("entry_bytes", "salt").first() if target else None
    starts = first is not None and not bytes(first[1])
    if final is None:
        if starts:
            raise _Bad(0, "entry 0 names a previous log, but no previous log is stored here")
        if PreviousEntry.objects.exists() or PreviousNode.objects.exists():
            raise _Bad(0, "the previous log's entries are stored without any of its checkpoints")
        return
    if first is not None and not starts:
        raise _Bad(0, "entry 0 does not commit to the previous log's final checkpoint")
    if starts and bytes(first[0]) != leaves.log_start_bytes(previous_checkpoint=final.note):
        raise _Bad(0, f"entry 0 names another final checkpoint of the previous log than its {final.tree_size}")
    origin = final.note.split("\n", 1)[0]
    key = note.verifier_key(origin, note.public_bytes(signing_key()))
    checkpoints = {
        size: (bytes(root), signed)
        for size, root, signed in PreviousCheckpoint.objects.values_list("tree_size", "root_hash", "note")
    }
    frontier, nodes = merkle.Frontier(), []

    def bad(reason: str) -> _Bad:
        return _Bad(0, f"the previous log ({origin}): {reason}")

    def checkpoint_check(size: int) -> None:
        if size not in checkpoints:
            return
        root, signed = checkpoints[size]
        try:
            body = note.note_verify(signed, key)
        except note.NoteError:
            raise bad(f"checkpoint {size} is not signed by the log key") from None
        computed = frontier.root()
        if body != note.checkpoint_body(origin, size, computed) or root != computed:
            raise bad(f"checkpoint {size} does not match its entries")

    checkpoint_check(0)
    rows = PreviousEntry.objects.order_by("index").values_list("index", "entry_bytes", "leaf_hash", "subject")
    for index, data, leaf, subject in rows.iterator(chunk_size=CHUNK):
        data = bytes(data)
        if index != frontier.size:
            raise bad(f"entry {frontier.size} is missing")
        if merkle.leaf_hash(data) != bytes(leaf) or b'"index":%d,' % index not in data:
            raise bad(f"entry {index} does not match its leaf hash or its index")
        if f'"subject":"{subject}"'.encode() not in data:
            raise bad(f"entry {index}: its subject column does not match its bytes")
        frontier.append(bytes(leaf), nodes)
        checkpoint_check(frontier.size)
    if frontier.size != final.tree_size:
        raise bad(f"its entries end at {frontier.size}, its final checkpoint covers {final.tree_size}")
    stored = [(key, bytes(value)) for key, value in PreviousNode.objects.order_by("key").values_list("key", "hash")]
    if stored != sorted(nodes):
        raise bad("a stored subtree does not match its entries")


BEYOND_SQL = """
    SELECT (SELECT min("index") FROM ledger_entry WHERE "index" >= %s),
           (SELECT max("index") FROM ledger_entry WHERE "index" >= %s),
           (SELECT min(key) FROM ledger_node WHERE key >= %s)
"""


def _beyond_check(size: int) -> None:
    """Fail if any entry or subtree row lies beyond the newest signed checkpoint of SIZE."""
    with connection.cursor() as cursor:
        cursor.execute(BEYOND_SQL, [size, size, size << 6])
        first, last, key = cursor.fetchone()
    if first is not None:
        raise _Bad(
            first,
            f"entries {first} to {last} lie beyond the newest signed checkpoint ({size}): no sequencer wrote them",
        )
    if key is not None:
        raise _Bad(
            key >> 6, f"a subtree row ending at entry {key >> 6} lies beyond the newest signed checkpoint ({size})"
        )


# The stored subtrees of entries LO to HI - 1, concatenated in key order, in
# one row: per-row fetching cost verify more than hashing them did.
NODE_BLOCK_SQL = {
    "postgresql": """
        SELECT count(*), coalesce(string_agg(hash, ''::bytea ORDER BY key), ''::bytea)
        FROM ledger_node WHERE key >= %s AND key < %s
    """,
}

NODES_SQL = "SELECT key, hash FROM ledger_node WHERE key >= %s AND key < %s ORDER BY key"


def _node_block(lo: int, hi: int) -> tuple[int, bytes]:
    """Return how many subtrees are stored for entries LO to HI - 1, and their hashes in key order."""
    with connection.cursor() as cursor:
        sql = NODE_BLOCK_SQL.get(connection.vendor)
        if sql is not None:
            cursor.execute(sql, [lo << 6, hi << 6])
            count, joined = cursor.fetchone()
            return count, bytes(joined)
        cursor.execute(NODES_SQL, [lo << 6, hi << 6])
        hashes = [bytes(value) for _key, value in cursor.fetchall()]
        return len(hashes), b"".join(hashes)


def _first_bad_subtree(lo: int, hi: int, computed: list[tuple[int, bytes]]) -> int:
    """Return the entry index of the first stored subtree in LO..HI - 1 that differs from COMPUTED (key, hash)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, hash FROM ledger_node WHERE key >= %s AND key < %s ORDER BY key", [lo << 6, hi << 6]
        )
        stored = [(key, bytes(value)) for key, value in cursor.fetchall()]
    for (key, value), (stored_key, stored_value) in zip(computed, stored, strict=False):
        if key != stored_key or value != stored_value:
            return min(key, stored_key) >> 6
    # One list is a prefix of the other: the first extra or missing subtree is where they part.
    longer = computed if len(computed) > len(stored) else stored
    return longer[min(len(computed), len(stored))][0] >> 6


def _trailing_ones(index: int) -> int:
    return (index ^ (index + 1)).bit_length() - 1


def _verify(checkpoints, target, progress, index: bool = True) -> int:
    entries = _stream(ENTRIES_SQL, [target])
    try:
        return _verify_streams(checkpoints, target, progress, entries, index)
    finally:
        entries.close()


# From this many entries on, verify recomputes the subjects' index in a second process, beside the scan.
PARALLEL_INDEX_FROM = 100_000


def _index_apply(index_map: vindex.IndexMap, items: list, expected: bytes) -> bool:
    return index_map.update({vindex.key_of(tag): value for tag, value in items}) == expected


def _index_child(connection_) -> None:
    """Apply each index checkpoint's changed heads to a map; answer the first size whose root differs, or None."""
    index_map, bad = vindex.IndexMap(track=False), None
    while (message := connection_.recv()) is not None:
        size, items, expected = message
        if bad is None and not _index_apply(index_map, items, expected):
            bad = size
    connection_.send(bad)
    connection_.close()


class IndexCheck:
    """Recompute the subjects' index at each index checkpoint from the heads the scan found, and compare roots.

    The map costs several hashes per new subject, more than the scan spends on an entry, so on a large log
    a forked process builds it while the scan goes on (PARALLEL); ``first_bad`` then waits for it.
    """

    def __init__(self, *, parallel: bool, enabled: bool = True) -> None:
        self.map, self.bad, self.good_before, self.child = vindex.IndexMap(track=False), None, {}, None
        self.enabled = enabled
        forkable = "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon
        if enabled and parallel and forkable:
            context = multiprocessing.get_context("fork")
            self.pipe, child_end = context.Pipe()
            self.child = context.Process(target=_index_child, args=(child_end,), daemon=True)
            self.child.start()
            child_end.close()

    def check(self, size: int, good_before: int, items: list, expected: bytes) -> None:
        if not self.enabled:
            return
        self.good_before[size] = good_before
        if self.child is not None:
            self.pipe.send((size, items, expected))
        elif self.bad is None and not _index_apply(self.map, items, expected):
            self.bad = size

    def first_bad(self) -> tuple[int, int] | None:
        """Return (size, last good size) of the first index checkpoint whose root is not the map, or None."""
        if self.child is not None:
            self.pipe.send(None)
            self.bad = self.pipe.recv()
            self.child.join()
            self.child = None
        return (self.bad, self.good_before[self.bad]) if self.bad is not None else None

    def close(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child.join()
            self.child = None


def _verify_streams(checkpoints, target, progress, entries, index: bool = True) -> int:
    index_check = IndexCheck(parallel=target >= PARALLEL_INDEX_FROM, enabled=index)
    try:
        try:
            checked = _verify_scan(checkpoints, target, progress, entries, index_check)
        except _Bad as bad:
            # An index checkpoint that failed before the scan's failure is the first bad thing.
            index_bad = index_check.first_bad()
            if index_bad is None or (bad.index is not None and bad.index < index_bad[1]):
                raise
            _index_bad(*index_bad)
        index_bad = index_check.first_bad()
        if index_bad is not None:
            _index_bad(*index_bad)
        return checked
    finally:
        index_check.close()


_LAST = (1 << 48) - 1
_ONE = 1 << 48


def _index_bad(size: int, good_before: int):
    raise _Bad(
        good_before,
        f"checkpoint {size} does not match entries {good_before} to {size - 1}: "
        "its index root is not the map of their subjects' chains",
    )


def _verify_scan(checkpoints, target, progress, entries, index_check) -> int:
    origin = settings.ONECARD_LEDGER_ORIGIN
    key = log_verifier_key()
    sha256 = hashlib.sha256
    hashes: list[bytes] = []
    pending_checkpoints = iter(checkpoints)
    checkpoint = next(pending_checkpoints, None)
    good_size = 0
    # The subjects' chains and index, recomputed: heads {tag: (count, last index)}, and the heads
    # changed since the last checkpoint, applied to the index at each checkpoint that signs one.
    heads: dict[str, int] = {}
    changed: dict[str, int] = {}
    chained = False
    chain_search, heads_get, track_changes = CHAIN_FIELDS.search, heads.get, index_check.enabled

    def check_checkpoints(size: int) -> None:
        nonlocal checkpoint, good_size
        root = merkle.fold(hashes) if hashes else merkle.EMPTY_ROOT
        while checkpoint is not None and checkpoint[0] == size:
            tree_size, stored_root, signed, stored_index_root = checkpoint
            # Only an index checkpoint signs the map (ledger.index); the others claim no count. The signed
            # note binds the stored index root; IndexCheck recomputes it from the chains.
            index_root = bytes(stored_index_root) if stored_index_root is not None else None
            try:
                body = note.note_verify(signed, key)
            except note.NoteError:
                raise _Bad(good_size, f"checkpoint {tree_size} is not signed by the log key") from None
            if body != note.checkpoint_body(origin, tree_size, root, index_root) or bytes(stored_root) != root:
                raise _Bad(good_size, f"checkpoint {tree_size} does not match entries {good_size} to {tree_size - 1}")
            if index_root is not None:
                items = [(tag, (head >> 48, head & _LAST)) for tag, head in changed.items()]
                index_check.check(tree_size, good_size, items, index_root)
                changed.clear()
            good_size = tree_size
            checkpoint = next(pending_checkpoints, None)

    def check_chain(index: int, subject: str, data: bytes, chained: bool):
        """Return the subject's new head for an entry the loop's substring tests missed, or None for an entry
        from before chains began; fail, naming why, for a broken chain."""
        found = chain_search(data)
        if found is None:
            if chained:
                fail(index, f"entry {index}: it carries no subject_seq and subject_prev")
            return None
        head = heads.get(subject)
        count, last = (head >> 48, head & _LAST) if head is not None else (0, None)
        prev = None if found[1] == b"null" else int(found[1])
        if int(found[2]) != count + 1 or prev != last:
            fail(
                index,
                f"entry {index}: its chain says entry {found[2].decode()} of {subject} after entry {prev}, "
                f"the log gives entry {count + 1} after entry {last}",
            )
        return (count + 1) << 48 | index

    def check_subtrees(lo: int, hi: int, computed: list[bytes]) -> None:
        count, joined = _node_block(lo, hi)
        if count == len(computed) and joined == b"".join(computed):
            return
        keys = [(index << 6) | level for index in range(lo, hi) for level in range(1, _trailing_ones(index) + 1)]
        bad = _first_bad_subtree(lo, hi, list(zip(keys, computed, strict=True)))
        raise _Bad(bad, f"entry {bad}: a stored subtree ending here does not match")

    def fail(index: int, reason: str) -> None:
        # A wrong subtree earlier in the block is the first bad entry, not this one.
        check_subtrees(block_start, expected, block_nodes)
        raise _Bad(index, reason)

    check_checkpoints(0)
    next_checkpoint = checkpoint[0] if checkpoint is not None else -1
    expected = 0
    block_start, block_nodes = 0, []
    # One comparison per entry decides whether anything but hashing is due.
    next_stop = min(CHUNK, next_checkpoint) if next_checkpoint > 0 else CHUNK
    node_append, hash_pop, hash_append = block_nodes.append, hashes.pop, hashes.append
    # The hot loop is written out (no Frontier.append) because verify must keep
    # pace with a bare scan; it mirrors merkle.Frontier exactly.
    leaf_of = leaves.leaf_bytes
    for index, data, leaf, subject, salt in entries:
        if index != expected:
            fail(expected, f"entry {expected} is missing")
        try:
            computed = sha256(b"\x00" + leaf_of(entry_bytes=data, salt=salt)).digest()
        except ValueError:
            computed = None
        if computed != leaf:
            fail(index, f"entry {index}: leaf hash does not match its bytes and salt")
        if b'"index":%d,' % index not in data:
            fail(index, f"entry {index}: its bytes name another index")
        if not salt:
            # The unsalted log-start leaf names the previous log (checked by _previous_check); only leaf 0 may be one.
            if index != 0 or subject:
                fail(index, f"entry {index} is unsalted: its public leaf would show the entry")
        elif f'"subject":"{subject}"'.encode() not in data:
            fail(index, f"entry {index}: its subject column does not match its bytes")
        # The chain, written out as the rest: two substring tests, as for the index and the subject; a
        # miss goes to check_chain, which parses the fields and names the failure.
        # A head is one int, count << 48 | last index: no tuple for the garbage collector to walk.
        head = heads_get(subject)
        if head is None:
            head = _ONE | index
            held = b'"subject_prev":null,"subject_seq":1,' in data or b'"subject_prev":null,"subject_seq":1}' in data
        else:
            needle = b'"subject_prev":%d,"subject_seq":%d' % (head & _LAST, (head >> 48) + 1)
            head = (head & ~_LAST) + _ONE | index
            held = needle + b"," in data or needle + b"}" in data
        if not held:
            head = check_chain(index, subject, data, chained)
        if head is not None:
            heads[subject] = head
            if track_changes:
                changed[subject] = head
            chained = True
        # Appending leaf INDEX completes one subtree per trailing 1 bit of INDEX.
        position = index
        while position & 1:
            computed = sha256(b"\x01" + hash_pop() + computed).digest()
            node_append(computed)
            position >>= 1
        hash_append(computed)
        expected = index + 1
        if expected != next_stop:
            continue
        # Subtrees are compared a block at a time, before any checkpoint past the block is trusted.
        if not expected % CHUNK or expected == next_checkpoint:
            check_subtrees(block_start, expected, block_nodes)
            block_start = expected
            block_nodes.clear()
        if not expected % CHUNK and progress:
            progress(CHUNK)
        if expected == next_checkpoint:
            check_checkpoints(expected)
            next_checkpoint = checkpoint[0] if checkpoint is not None else -1
        next_block = expected - expected % CHUNK + CHUNK
        next_stop = min(next_block, next_checkpoint) if next_checkpoint > expected else next_block
    if expected < target:
        fail(expected, f"the log ends at entry {expected - 1} but checkpoint {target} covers more")
    check_subtrees(block_start, expected, block_nodes)
    if progress:
        progress(expected % CHUNK)
    return len(checkpoints)
