"""The subjects' index: a verifiable map from each subject's tag to (count, last index).

The map is the sparse Merkle tree of ``ledger/tools/vindex.py`` (the code the
offline verifier runs). Its leaves are the subjects' chain heads: the number of
entries about the tag and the index of the newest one, which is what the
sequencer writes into each entry as ``subject_seq`` and ``subject_prev``.

The map is not rebuilt at every batch. The sequencer keeps the heads that
changed since the last map (its window) in memory and folds them into the map
only at an *index checkpoint*: when nothing more is pending after a batch, when
the window holds ``INDEX_EVERY`` entries, or when the last index checkpoint is
``INDEX_MAX_AGE_S`` seconds old. Only an index checkpoint carries the
``index <root>`` line, and only its map is stored: every node the fold
rewrote becomes a new row of ``ledger_indexnode`` under that tree size (rows
are only appended), so each index checkpoint's map can still be proven. A
checkpoint without the line claims no count; the next index checkpoint covers
its entries.

The sequencer trusts no stored node that does not hash to a signed root. A
process that does not hold the map of the newest checkpoint (a restart,
another worker) loads the paths it needs from the rows of the newest index
checkpoint and checks them against that checkpoint's signed index root; it
rebuilds the window from the entries after it, once their leaf hashes extend
that checkpoint's signed tree to the newest signed root.
"""

import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections

from ledger import leaves, merkle, note
from ledger.models import Checkpoint, Entry, IndexNode
from ledger.tools import vindex

# Above this many nodes in memory the sequencer forgets its map after a batch and loads again what it needs.
CACHE_LIMIT = 2_000_000
# Leaves updated and seconds spent updating and storing the index in this process, for the benchmark.
update_totals = {"heads": 0, "seconds": 0.0}


class IndexTampered(Exception):
    """The stored index nodes do not hash to the signed index root."""


def node_name(depth: int, prefix: int) -> bytes:
    """Return the stored name of node (DEPTH, PREFIX): 2 bytes of depth, then the prefix bits left-aligned."""
    length = (depth + 7) // 8
    return depth.to_bytes(2, "big") + (prefix << (length * 8 - depth)).to_bytes(length, "big")


def _row_value(hash_, leaf_key, leaf_count, leaf_last):
    leaf = (bytes(leaf_key), leaf_count, leaf_last) if leaf_key is not None else None
    return (bytes(hash_), leaf)


_SELECT = "SELECT hash, leaf_key, leaf_count, leaf_last FROM ledger_indexnode"


def nodes_at(names: list[bytes], version: int, *, using: str = "default") -> dict[bytes, tuple]:
    """Return {name: (hash, leaf)} of the newest stored version at or below VERSION of each named node that has one."""
    found = {}
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT n.node, x.hash, x.leaf_key, x.leaf_count, x.leaf_last FROM unnest(%s::bytea[]) AS n(node) "
                f"CROSS JOIN LATERAL ({_SELECT} i WHERE i.node = n.node AND i.version <= %s "
                "ORDER BY i.version DESC LIMIT 1) AS x",
                [names, version],
            )
            rows = cursor.fetchall()
        else:
            rows = []
            for start in range(0, len(names), 400):
                chunk = names[start : start + 400]
                sql = " UNION ALL ".join(
                    f"SELECT %s, * FROM ({_SELECT} WHERE node = %s AND version <= %s ORDER BY version DESC LIMIT 1)"
                    for _ in chunk
                )
                cursor.execute(sql, [value for name in chunk for value in (name, name, version)])
                rows += cursor.fetchall()
    for name, *value in rows:
        found[bytes(name)] = _row_value(*value)
    return found


class StoredIndex(vindex.IndexMap):
    """The index as of VERSION, reading stored nodes on demand (one query per level when preloaded).

    COMPLETE means every node is in memory (a map built here from empty): an absent node is empty.
    """

    def __init__(self, version: int, *, using: str = "default", nodes: dict | None = None, complete=False) -> None:
        super().__init__(nodes)
        self.version, self.using, self.complete = version, using, complete

    def _missing(self, depth: int, prefix: int):
        if self.complete:
            return None
        value = nodes_at([node_name(depth, prefix)], self.version, using=self.using).get(node_name(depth, prefix))
        self.nodes[(depth, prefix)] = value
        return value

    def preload(self, keys, *, check: bool = True) -> None:
        """Read, a level at a time, every stored node on the paths of KEYS and their siblings; check their hashes."""
        if self.complete:
            return
        wanted, depth, loaded = {(0, 0)}, 0, []
        numbers = [int.from_bytes(key, "big") for key in keys]
        while wanted:
            missing = [position for position in wanted if position not in self.nodes]
            if missing:
                names = {node_name(*position): position for position in missing}
                found = nodes_at(list(names), self.version, using=self.using)
                for name, position in names.items():
                    self.nodes[position] = found.get(name)
                loaded += missing
            following = set()
            for number in numbers:
                node = self.nodes.get((depth, number >> (vindex.KEY_BITS - depth) if depth else 0))
                if node is not None and node[1] is None:
                    child = (number >> (vindex.KEY_BITS - depth - 1)) if depth < vindex.KEY_BITS - 1 else number
                    following.update(((depth + 1, child), (depth + 1, child ^ 1)))
            wanted, depth = following, depth + 1
        if check:
            self._check(loaded)

    def _check(self, positions) -> None:
        """Fail unless each loaded leaf hashes to its value and each node over a loaded one to its children.

        The parents count too: a node loaded under one already held (and so already checked) must hash
        into it, or a stored row could replace a subtree below a trusted node.
        """
        checked = set()
        for depth, prefix in positions:
            node = self.nodes.get((depth, prefix))
            if node is not None and node[1] is not None and vindex.leaf_hash(*node[1]) != node[0]:
                raise IndexTampered(f"index leaf {node_name(depth, prefix).hex()} does not hash to its value")
            for parent in ((depth, prefix), (depth - 1, prefix >> 1)) if depth else ((depth, prefix),):
                if parent in checked:
                    continue
                checked.add(parent)
                node = self.nodes.get(parent)
                if node is None or node[1] is not None:
                    continue
                left, right = (parent[0] + 1, parent[1] << 1), (parent[0] + 1, parent[1] << 1 | 1)
                if left not in self.nodes or right not in self.nodes:
                    continue
                hashes = [self.nodes[child][0] if self.nodes[child] else vindex.EMPTY for child in (left, right)]
                if vindex.node_hash(*hashes) != node[0]:
                    raise IndexTampered(f"index node {node_name(*parent).hex()} does not hash to its children")


# An index checkpoint at least every this many entries, or this many seconds, even while rows keep arriving.
INDEX_EVERY = 100_000
INDEX_MAX_AGE_S = 30.0

# The chain fields of an entry (keys sorted: they follow "subject"), found without parsing the JSON.
CHAIN_FIELDS = re.compile(rb'"subject_prev":(null|[0-9]+),"subject_seq":([0-9]+)[,}]')


@dataclass
class IndexState:
    """The map of the newest index checkpoint, and the heads that changed in the log since (the window)."""

    index: StoredIndex
    root: bytes | None  # the signed index root of the map's checkpoint; None before any
    window: dict = field(default_factory=dict)  # {tag: (count, last index)} of entries from index.version on
    size: int = 0  # the tree size the window reaches
    log_root: bytes | None = None  # the signed log root at SIZE
    folded_at: float = field(default_factory=time.monotonic)
    # {tag: (count, last index)} of every leaf, kept while the whole map is in memory (built here from empty).
    leaves: dict | None = None

    def heads(self, tags: list[str]) -> dict:
        """Return {tag: (count, last index)} of TAGS at the window's end, loading (and checking) map paths."""
        window = self.window
        if self.leaves is not None:
            leaves, none = self.leaves, (0, None)
            return {tag: window.get(tag) or leaves.get(tag, none) for tag in tags}
        heads = {tag: window[tag] for tag in tags if tag in window}
        rest = [tag for tag in tags if tag not in heads]
        if rest:
            self.index.preload([vindex.key_of(tag) for tag in rest])
            if self.root is not None and self.index.root() != self.root:
                raise IndexTampered(f"the stored index does not hash to checkpoint {self.index.version}'s index root")
            heads.update(heads_get(self.index, rest))
        return heads

    def advance(self, heads: dict, *, size: int) -> None:
        self.window.update(heads)
        self.size = size

    def due(self, *, pending_left: bool) -> bool:
        """Return whether the batch just sequenced should close with an index checkpoint."""
        return (
            not pending_left
            or self.size - self.index.version >= INDEX_EVERY
            or time.monotonic() - self.folded_at >= INDEX_MAX_AGE_S
        )

    def fold(self, *, using: str) -> bytes:
        """Apply the window to the map, store the nodes it rewrote under the window's size; return the new root."""
        started = time.perf_counter()
        index = self.index
        root = index.update({vindex.key_of(tag): value for tag, value in self.window.items()})
        _store(using, self.size, index.take_changed())
        update_totals["heads"] += len(self.window)
        update_totals["seconds"] += time.perf_counter() - started
        if self.leaves is not None:
            self.leaves.update(self.window)
        index.version, self.root, self.window, self.folded_at = self.size, root, {}, time.monotonic()
        if len(index.nodes) > CACHE_LIMIT:
            index.nodes, index.complete, self.leaves = {}, False, None
        return root


# The state after the last batch this process committed.
_state: IndexState | None = None


def forget() -> None:
    """Drop the map and window this process remembers (after a refusal, or in tests)."""
    global _state
    _state = None


def remember(state: IndexState, *, size: int, log_root: bytes) -> None:
    """Keep STATE for the next batch, which starts from it while the newest checkpoint is (SIZE, LOG_ROOT)."""
    global _state
    state.size, state.log_root = size, log_root
    _state = state


def state_open(*, using: str, size: int, log_root: bytes | None, log_key: str, frontier_load) -> IndexState:
    """Return the index state at the newest checkpoint (SIZE, LOG_ROOT), already checked by the sequencer.

    Reuse what this process left if it reached that checkpoint; otherwise start from the newest index
    checkpoint's stored map (its paths checked against its signed index root as they are loaded) and
    rebuild the window from the entries after it, once their leaf hashes extend that checkpoint's tree
    to LOG_ROOT. LOG_KEY checks the log's signatures; FRONTIER_LOAD(size, using=…) reads a stored frontier.
    Raise IndexTampered when anything stored disagrees with what was signed.
    """
    global _state
    known, _state = _state, None  # the batch changes the state in place
    if known is not None and known.size == size and known.log_root == log_root:
        return known
    latest = (
        Checkpoint.objects.using(using)
        .filter(index_root__isnull=False)
        .order_by("-tree_size")
        .values_list("tree_size", "root_hash", "index_root", "note")
        .first()
    )
    if latest is None:
        state = IndexState(StoredIndex(0, using=using, nodes={}, complete=True), None, leaves={})
        start, frontier = 0, merkle.Frontier()
    else:
        version, root, index_root, signed = latest
        root, index_root = bytes(root), bytes(index_root)
        try:
            body = note.note_verify(signed, log_key)
        except note.NoteError:
            raise IndexTampered(f"checkpoint {version} is not signed by the log key") from None
        if body != note.checkpoint_body(settings.ONECARD_LEDGER_ORIGIN, version, root, index_root):
            raise IndexTampered(f"checkpoint {version}'s stored index root differs from its signed note")
        state = IndexState(StoredIndex(version, using=using), index_root)
        start = version
        frontier = frontier_load(version, using=using) if start < size else None
        if frontier is not None and frontier.root() != root:
            raise IndexTampered(f"the stored subtrees of the first {version} entries do not hash to its root")
    if start < size:
        _window_replay(state, using=using, start=start, size=size, frontier=frontier, log_root=log_root)
    state.size, state.log_root = size, log_root
    return state


def _window_replay(state: IndexState, *, using: str, start: int, size: int, frontier, log_root) -> None:
    rows = Entry.objects.using(using).filter(index__gte=start, index__lt=size).order_by("index")
    expected = start
    for index, subject, data, salt in rows.values_list("index", "subject", "entry_bytes", "salt").iterator(
        chunk_size=5000
    ):
        data = bytes(data)
        if index != expected:
            raise IndexTampered(f"entry {expected} is missing after index checkpoint {start}")
        frontier.append(merkle.leaf_hash(leaves.leaf_bytes(entry_bytes=data, salt=bytes(salt))), [])
        found = CHAIN_FIELDS.search(data)
        if found is not None:
            state.window[subject] = (int(found[2]), index)
        expected = index + 1
    if expected != size or frontier.root() != log_root:
        raise IndexTampered(f"the entries after index checkpoint {start} do not hash to checkpoint {size}'s root")


def heads_get(index: vindex.IndexMap, tags) -> dict:
    """Return {tag: (count, last index)} that INDEX holds for each of TAGS, (0, None) for a tag it lacks."""
    heads = {}
    for tag in tags:
        key = vindex.key_of(tag)
        depth, number = 0, int.from_bytes(key, "big")
        while True:
            node = index.get(depth, number >> (vindex.KEY_BITS - depth) if depth else 0)
            if node is None:
                heads[tag] = (0, None)
                break
            if node[1] is not None:
                heads[tag] = (node[1][1], node[1][2]) if node[1][0] == key else (0, None)
                break
            depth += 1
    return heads


# Per depth: its two stored bytes, the byte length of its prefix and the shift that left-aligns it (node_name).
_NAME_PARTS = [(depth.to_bytes(2, "big"), (depth + 7) >> 3, (((depth + 7) >> 3) << 3) - depth) for depth in range(257)]


def _store(using: str, version: int, changed: dict) -> None:
    rows = []
    append, parts = rows.append, _NAME_PARTS
    for (depth, prefix), (hash_, leaf) in changed.items():
        head, length, shift = parts[depth]
        name = head + (prefix << shift).to_bytes(length, "big")
        if leaf is None:
            append((name, version, hash_, None, None, None))
        else:
            append((name, version, hash_, *leaf))
    if not rows:
        return
    # In key order, PostgreSQL adds them to the primary key's B-tree page by page, not at random places:
    # about a third less time for a fold of new subjects (docs/performance.md).
    rows.sort()
    connection = connections[using]
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY ledger_indexnode (node, version, hash, leaf_key, leaf_count, leaf_last) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    IndexNode.objects.using(using).bulk_create(
        [IndexNode(node=n, version=v, hash=h, leaf_key=k, leaf_count=c, leaf_last=la) for n, v, h, k, c, la in rows],
        batch_size=500,
    )


def index_proof(*, tag: str, version: int, using: str = "default") -> dict:
    """Return the proof of TAG's (count, last index), or of its absence, in the index of tree size VERSION."""
    index = StoredIndex(version, using=using)
    index.preload([vindex.key_of(tag)], check=False)
    return index.prove(vindex.key_of(tag))


def index_root_at(version: int, *, using: str = "default") -> bytes:
    """Return the root of the stored index of tree size VERSION."""
    node = nodes_at([node_name(0, 0)], version, using=using).get(node_name(0, 0))
    return node[0] if node is not None else vindex.EMPTY
