"""RFC 9162 §2.1 Merkle tree arithmetic over stored complete subtrees.

A complete subtree is named by ``(level, position)``: it covers the leaves
``[position * 2**level, (position + 1) * 2**level)``. Level 0 is a leaf. Every
range the RFC's recursion produces decomposes into O(log n) complete subtrees,
so proofs need only those stored hashes, never a rehash of the log.
"""

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry_bytes: bytes) -> bytes:
    """Return SHA-256(0x00 || entry_bytes)."""
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def node_key(level: int, position: int) -> int:
    """Return the storage key of a level >= 1 subtree: ordered by the leaf that completes it."""
    return ((((position + 1) << level) - 1) << 6) | level


def split_point(size: int) -> int:
    """Return the largest power of two smaller than SIZE (SIZE > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Return the complete subtrees, left to right, that make up leaves [START, END)."""
    subtrees = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        subtrees.append((level, start >> level))
        start += 1 << level
    return subtrees


def fold(hashes: list[bytes]) -> bytes:
    """Return the RFC 9162 hash of a range from its complete subtrees' hashes, left to right."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form PATH(index, D[size]), leaf side first (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    ranges = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form PROOF(first, D[second]) (RFC 9162 §2.1.4.1)."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    ranges = []
    start, end, complete = 0, second, True
    while True:
        if first - start == end - start:
            if not complete:
                ranges.append((start, end))
            break
        k = split_point(end - start)
        if first - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            complete = False
    ranges.reverse()
    return ranges


class Frontier:
    """The right edge of a growing tree: one hash per complete subtree of [0, size)."""

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.levels = [level for level, _ in range_subtrees(0, size)]
        self.hashes = list(hashes or [])
        if len(self.hashes) != len(self.levels):
            raise ValueError("the frontier needs one hash per complete subtree")

    def append(self, leaf: bytes, completed: list | None = None) -> None:
        """Add one leaf hash; append (key, hash) of every subtree it completes to COMPLETED."""
        index = self.size
        levels, hashes = self.levels, self.hashes
        levels.append(0)
        hashes.append(leaf)
        while len(levels) > 1 and levels[-1] == levels[-2]:
            level = levels.pop() + 1
            right = hashes.pop()
            hashes[-1] = node_hash(hashes[-1], right)
            levels[-1] = level
            if completed is not None:
                completed.append(((index << 6) | level, hashes[-1]))
        self.size = index + 1

    def root(self) -> bytes:
        """Return the root hash of the tree of the current size."""
        return fold(self.hashes) if self.hashes else EMPTY_ROOT
