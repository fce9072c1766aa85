"""The subjects' index: a verifiable map from each subject's tag to (count, last index), one root per checkpoint.

The map is the sparse Merkle tree of ``ledger/tools/vindex.py`` (the code the
offline verifier runs). Its leaves are the subjects' chain heads: the number of
entries about the tag and the index of the newest one, which is what the
sequencer writes into the next entry as ``subject_seq`` and ``subject_prev``.
Each sequencer batch changes the leaves of the subjects it touched, in one
pass over the tree, and stores every node it rewrote as a new row of
``ledger_indexnode`` under the batch's tree size (rows are only appended), so
the map of any checkpoint can still be proven from the stored rows.

The sequencer keeps the map it last committed in memory and starts the next
batch from it while the newest checkpoint still names its size and root, as it
does with the log's frontier. Otherwise it loads the nodes the batch needs
from the stored rows, and checks every loaded node against its children and
the root against the signed checkpoint's index line before building on them.
"""

import time

from django.db import connections

from ledger.models import IndexNode
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
    """The index as of VERSION, reading stored nodes on demand (one query per level when preloaded)."""

    def __init__(self, version: int, *, using: str = "default", nodes: dict | None = None) -> None:
        super().__init__(nodes)
        self.version, self.using = version, using

    def _missing(self, depth: int, prefix: int):
        value = nodes_at([node_name(depth, prefix)], self.version, using=self.using).get(node_name(depth, prefix))
        self.nodes[(depth, prefix)] = value
        return value

    def preload(self, keys, *, check: bool = True) -> None:
        """Read, a level at a time, every stored node on the paths of KEYS and their siblings; check their hashes."""
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
        """Fail unless each loaded leaf hashes to its value and each loaded internal node to its loaded children."""
        for depth, prefix in positions:
            node = self.nodes.get((depth, prefix))
            if node is None:
                continue
            if node[1] is not None:
                if vindex.leaf_hash(*node[1]) != node[0]:
                    raise IndexTampered(f"index leaf {node_name(depth, prefix).hex()} does not hash to its value")
                continue
            left, right = (depth + 1, prefix << 1), (depth + 1, prefix << 1 | 1)
            if left not in self.nodes or right not in self.nodes:
                continue
            hashes = [self.nodes[child][0] if self.nodes[child] else vindex.EMPTY for child in (left, right)]
            if vindex.node_hash(*hashes) != node[0]:
                raise IndexTampered(f"index node {node_name(depth, prefix).hex()} does not hash to its children")


# The map after the last batch this process committed: (version, root, nodes).
_last_map: tuple[int, bytes, dict] | None = None


def forget() -> None:
    """Drop the map this process remembers (after a refusal, or in tests)."""
    global _last_map
    _last_map = None


def index_open(*, using: str, previous: int, previous_root: bytes | None, tags: list[str]) -> StoredIndex:
    """Return the index of tree size PREVIOUS with the paths of TAGS loaded, once it hashes to PREVIOUS_ROOT.

    PREVIOUS_ROOT is the index root the last checkpoint signs; None before the index existed, when the
    map starts empty. Raise IndexTampered if the stored nodes do not hash to it.
    """
    global _last_map
    known, _last_map = _last_map, None  # the batch changes the remembered map in place
    if previous_root is None:
        return StoredIndex(previous, using=using, nodes={})
    if known is not None and known[0] == previous and known[1] == previous_root:
        return StoredIndex(previous, using=using, nodes=known[2])
    index = StoredIndex(previous, using=using)
    index.preload([vindex.key_of(tag) for tag in tags])
    if index.root() != previous_root:
        raise IndexTampered(f"the stored index does not hash to checkpoint {previous}'s index root")
    return index


def index_commit(index: StoredIndex, *, using: str, version: int, heads: dict) -> bytes:
    """Set HEADS ({tag: (count, last index)}) in INDEX, store the nodes it rewrote as VERSION; return the new root."""
    global _last_map
    started = time.perf_counter()
    root = index.update({vindex.key_of(tag): value for tag, value in heads.items()})
    _store(using, version, index.take_changed())
    index.version = version
    if len(index.nodes) <= CACHE_LIMIT:
        _last_map = (version, root, index.nodes)
    update_totals["heads"] += len(heads)
    update_totals["seconds"] += time.perf_counter() - started
    return root


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


def _store(using: str, version: int, changed: dict) -> None:
    rows = []
    for (depth, prefix), (hash_, leaf) in changed.items():
        key, count, last = leaf if leaf is not None else (None, None, None)
        rows.append((node_name(depth, prefix), version, hash_, key, count, last))
    if not rows:
        return
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
