"""OneCard's verifiable index and the resident's completeness bundle, for the standalone tools.

Standalone on purpose, like ``tlog.py`` next to it: only the Python standard
library, ``cryptography`` (through ``tlog``) and no code shared with OneCard, so
an auditor or a resident can read it in full. OneCard's sequencer computes the
index with this same code.

The index is a sparse Merkle tree over 256-bit keys, ``key = SHA-256(tag)``,
where the tag is the subject pseudonym an entry names. Each leaf holds the
subject's count of entries and the log index of the newest one:

    leaf      = SHA-256(0x00 || key || uint64 count || uint64 last_index)
    internal  = SHA-256(0x01 || left || right)
    empty     = 32 zero bytes

A subtree holding no key hashes to ``empty``; a subtree holding exactly one
key hashes to that key's leaf (the leaf sits at the shallowest node where it
is alone, as in Diem's and Aptos's sparse Merkle trees); any other subtree is
an internal node over its two halves. Bit ``d`` of the key (most significant
bit of byte 0 first) chooses the right half at depth ``d``.

The root is bound to the log by an extension line of every checkpoint,
``index <base64 root>``, under the log's signature and the witnesses'
cosignatures (docs/ledger.md).
"""

import base64
import bisect
import hashlib
import json

if __package__:
    from . import tlog
else:  # run as a script: tlog.py sits next to this file
    import tlog

EMPTY = bytes(32)
KEY_BITS = 256
INDEX_LINE_PREFIX = "index "
BUNDLE_FORMAT = "onecard-completeness/v1"
_sha256 = hashlib.sha256


class CompletenessError(tlog.TlogError):
    """A map proof, an entry chain or a completeness bundle does not verify; the message names what failed."""


SEALED_DOMAIN = b"onecard-sealed/v1\x00"


def sealed_commitment(salt: bytes, contents: bytes) -> bytes:
    """Return a sealed entry's commitment: SHA-256("onecard-sealed/v1" || 0x00 || SALT || CONTENTS)."""
    return _sha256(SEALED_DOMAIN + salt + contents).digest()


def key_of(tag: str) -> bytes:
    """Return the index key of subject TAG: SHA-256 of its UTF-8 bytes."""
    return _sha256(tag.encode()).digest()


def leaf_hash(key: bytes, count: int, last_index: int) -> bytes:
    """Return SHA-256(0x00 || key || count || last_index), both numbers big-endian uint64."""
    return _sha256(b"\x00" + key + count.to_bytes(8, "big") + last_index.to_bytes(8, "big")).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def bit(key: bytes, depth: int) -> int:
    """Return bit DEPTH of KEY, most significant bit of byte 0 first."""
    return (key[depth >> 3] >> (7 - (depth & 7))) & 1


def index_line(root: bytes) -> str:
    """Return the checkpoint extension line that binds index ROOT to the checkpoint."""
    return f"{INDEX_LINE_PREFIX}{base64.b64encode(root).decode()}"


def index_root_of(body: str) -> bytes | None:
    """Return the index root named by a checkpoint BODY's extension line, or None if it has none."""
    roots = [line[len(INDEX_LINE_PREFIX) :] for line in body.split("\n")[3:] if line.startswith(INDEX_LINE_PREFIX)]
    if not roots:
        return None
    if len(roots) > 1:
        raise CompletenessError("the checkpoint has more than one index line")
    try:
        root = base64.b64decode(roots[0], validate=True)
    except ValueError:
        root = b""
    if len(root) != 32:
        raise CompletenessError("the checkpoint's index line is not a base64 SHA-256 hash")
    return root


# Proofs: the siblings along the key's path from the root down to where the path
# ends (a leaf, or an empty subtree), with a bitmap saying which are not empty.


def proof_encode(siblings: list, leaf) -> dict:
    """Return the JSON form of a proof: SIBLINGS from the root down (None: empty), LEAF (key, count, last) or None."""
    bitmap = bytearray((len(siblings) + 7) // 8)
    present = []
    for depth, sibling in enumerate(siblings):
        if sibling is not None and sibling != EMPTY:
            bitmap[depth >> 3] |= 0x80 >> (depth & 7)
            present.append(base64.b64encode(sibling).decode())
    encoded_leaf = None
    if leaf is not None:
        encoded_leaf = {"key": base64.b64encode(leaf[0]).decode(), "count": leaf[1], "last_index": leaf[2]}
    return {
        "depth": len(siblings),
        "bitmap": base64.b64encode(bytes(bitmap)).decode(),
        "siblings": present,
        "leaf": encoded_leaf,
    }


def proof_verify(root: bytes, key: bytes, proof: dict) -> tuple:
    """Return (count, last_index) that the index with ROOT holds for KEY, or (0, None) if it holds none.

    Raise CompletenessError when PROOF is malformed or does not lead to ROOT.
    """
    try:
        depth = proof["depth"]
        bitmap = base64.b64decode(proof["bitmap"], validate=True)
        present = [base64.b64decode(item, validate=True) for item in proof["siblings"]]
        leaf = proof["leaf"]
        if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= KEY_BITS:
            raise ValueError("depth")
        if len(bitmap) != (depth + 7) // 8 or any(len(item) != 32 for item in present):
            raise ValueError("sizes")
        if leaf is not None:
            leaf_key = base64.b64decode(leaf["key"], validate=True)
            count, last = leaf["count"], leaf["last_index"]
            if len(leaf_key) != 32 or not all(isinstance(n, int) and not isinstance(n, bool) for n in (count, last)):
                raise ValueError("leaf")
            if count < 1 or last < 0 or count >= 2**64 or last >= 2**64:
                raise ValueError("leaf numbers")
    except (KeyError, TypeError, ValueError) as error:
        raise CompletenessError(f"bad map proof: malformed ({error})") from None
    bits = [(bitmap[d >> 3] >> (7 - (d & 7))) & 1 for d in range(depth)]
    if sum(bits) != len(present) or (depth & 7 and bitmap[-1] & (0xFF >> (depth & 7))):
        raise CompletenessError("bad map proof: the bitmap does not match the siblings")
    if leaf is None:
        value = EMPTY
    else:
        if any(bit(leaf_key, d) != bit(key, d) for d in range(depth)):
            raise CompletenessError("bad map proof: the leaf does not lie on the key's path")
        value = leaf_hash(leaf_key, count, last)
    siblings = iter(reversed(present))
    for d in range(depth - 1, -1, -1):
        sibling = next(siblings) if bits[d] else EMPTY
        value = node_hash(sibling, value) if bit(key, d) else node_hash(value, sibling)
    if value != root:
        raise CompletenessError(
            "bad map proof: it does not lead to the index root the checkpoint signs (an old or a wrong map)"
        )
    if leaf is not None and leaf_key == key:
        return count, last
    return 0, None


_ABSENT = object()  # not in the map's nodes (None there means a position known to be empty)


class IndexMap:
    """A sparse Merkle tree held as a dict {(depth, prefix): (hash, leaf or None)}; absent means empty.

    PREFIX is the top DEPTH bits of the keys below the node, as an integer.
    ``update`` applies a batch of leaf values and returns the new root; the
    nodes it wrote since the last ``take_changed`` are kept for storage. A
    subclass may load nodes lazily by overriding ``_missing``.
    """

    def __init__(self, nodes: dict | None = None, *, track: bool = True) -> None:
        self.nodes = nodes if nodes is not None else {}
        # {position: value} written since the last take_changed (none kept when TRACK is false: a map never stored).
        self.changed = {} if track else None

    def _missing(self, depth: int, prefix: int):
        return None

    def get(self, depth: int, prefix: int):
        """Return (hash, leaf) of the node, or None for an empty subtree."""
        node = self.nodes.get((depth, prefix), _ABSENT)  # most positions asked for are empty: no KeyError
        return self._missing(depth, prefix) if node is _ABSENT else node

    def root(self) -> bytes:
        node = self.get(0, 0)
        return node[0] if node is not None else EMPTY

    def update(self, values: dict) -> bytes:
        """Set each key of VALUES (32-byte key: (count, last_index)) and return the new root."""
        if values:
            items = sorted((int.from_bytes(key, "big"), key, count, last) for key, (count, last) in values.items())
            numbers = [item[0] for item in items]
            self._update(0, 0, items, numbers, 0, len(items))
        return self.root()

    # The recursion passes ranges of one sorted list (no copies); ITEMS[i] is (number, key, count, last).

    def _put(self, position: tuple, value: tuple) -> bytes:
        self.nodes[position] = value
        if self.changed is not None:
            self.changed[position] = value
        return value[0]

    def _update(self, depth: int, prefix: int, items: list, numbers: list, lo: int, hi: int) -> bytes:
        node = self.get(depth, prefix)
        if node is None or node[1] is not None:
            if node is not None:
                leaf_key = node[1][0]
                number = int.from_bytes(leaf_key, "big")
                at = bisect.bisect_left(numbers, number, lo, hi)
                if at == hi or numbers[at] != number:
                    items = [*items[lo:at], (number, leaf_key, node[1][1], node[1][2]), *items[at:hi]]
                    numbers = [item[0] for item in items]
                    lo, hi = 0, len(items)
            return self._build(depth, prefix, items, numbers, lo, hi)
        middle = bisect.bisect_left(numbers, (prefix << 1 | 1) << (KEY_BITS - 1 - depth), lo, hi)
        down = depth + 1
        if middle > lo:
            left = self._update(down, prefix << 1, items, numbers, lo, middle)
        else:
            left = self._hash(down, prefix << 1)
        if hi > middle:
            right = self._update(down, prefix << 1 | 1, items, numbers, middle, hi)
        else:
            right = self._hash(down, prefix << 1 | 1)
        return self._put((depth, prefix), (_sha256(b"\x01" + left + right).digest(), None))

    def _hash(self, depth: int, prefix: int) -> bytes:
        node = self.get(depth, prefix)
        return node[0] if node is not None else EMPTY

    def _build(self, depth: int, prefix: int, items: list, numbers: list, lo: int, hi: int) -> bytes:
        """Write the subtree holding exactly ITEMS[LO:HI] where nothing is stored below (DEPTH, PREFIX).

        One pass over the sorted keys with a stack, no recursion: a key's leaf sits one below the longest
        prefix it shares with a neighbour; climbing from it, a node takes its left sibling from the stack,
        or an empty one, until it is the child of the branching point with the next key.
        """
        sha256, empty, nodes, changed = _sha256, EMPTY, self.nodes, self.changed
        if changed is None:
            changed = {}  # written and dropped: this map is never stored
        top = KEY_BITS
        stack: list = []  # (depth, hash) of finished left subtrees, deepest last
        previous_shared = depth - 1
        for at in range(lo, hi):
            number, key, count, last = items[at]
            if at + 1 < hi:
                difference = number ^ numbers[at + 1]
                if not difference:
                    raise CompletenessError("two different leaves for one key")
                next_shared = top - difference.bit_length()
            else:
                next_shared = depth - 1
            level = max(previous_shared, next_shared) + 1
            value = sha256(b"\x00" + key + count.to_bytes(8, "big") + last.to_bytes(8, "big")).digest()
            position = (level, number >> (top - level))
            nodes[position] = changed[position] = (value, (key, count, last))
            target = next_shared + 1
            while True:
                if stack and stack[-1][0] == level:
                    value = sha256(b"\x01" + stack.pop()[1] + value).digest()
                elif level > target:
                    if (number >> (top - level)) & 1:
                        value = sha256(b"\x01" + empty + value).digest()
                    else:
                        value = sha256(b"\x01" + value + empty).digest()
                else:
                    break
                level -= 1
                position = (level, number >> (top - level))
                nodes[position] = changed[position] = (value, None)
            stack.append((level, value))
            previous_shared = next_shared
        return stack[-1][1]

    def take_changed(self) -> dict:
        """Return, and forget, the nodes written since the last call."""
        changed, self.changed = self.changed, {}
        return changed

    def prove(self, key: bytes) -> dict:
        """Return the JSON proof of KEY's value (or absence) in this map."""
        siblings, depth, prefix = [], 0, 0
        while True:
            node = self.get(depth, prefix)
            if node is None or node[1] is not None:
                return proof_encode(siblings, node[1] if node is not None else None)
            child = prefix << 1 | bit(key, depth)
            siblings.append(self._hash(depth + 1, child ^ 1))
            depth, prefix = depth + 1, child


# The subjects' chains recomputed from the entries themselves, in log order, by whoever holds them.


class SubjectChains:
    """Each subject's chain and the map of their heads, recomputed from entries appended in log order.

    ``append`` checks an entry's ``subject_seq`` and ``subject_prev`` against the
    chain so far (entries from before chains began carry neither and count for no
    subject; once one entry is chained, every later one must be). ``root`` is the
    map of the heads: what an index checkpoint of this tree size must sign.
    """

    def __init__(self) -> None:
        self.size = 0
        self.heads: dict = {}
        self.changed: dict = {}
        self.chained = False
        self.map = IndexMap(track=False)

    def append(self, index: int, entry_bytes: bytes) -> None:
        """Take entry INDEX (the next one); raise CompletenessError naming why if it breaks its subject's chain."""
        if index != self.size:
            raise CompletenessError(f"entry {index} is not the next entry, {self.size}")
        try:
            entry = json.loads(entry_bytes)
        except ValueError:
            raise CompletenessError(f"entry {index} is not JSON") from None
        if not isinstance(entry, dict) or entry.get("index") != index:
            raise CompletenessError(f"entry {index}: its bytes name another index")
        if "subject_seq" not in entry and "subject_prev" not in entry:
            if self.chained:
                raise CompletenessError(f"broken chain: entry {index} carries no subject_seq and subject_prev")
            self.size += 1
            return
        subject, seq, prev = entry.get("subject"), entry.get("subject_seq"), entry.get("subject_prev")
        if not isinstance(subject, str) or not subject:
            raise CompletenessError(f"broken chain: entry {index} is chained but names no subject")
        count, last = self.heads.get(subject, (0, None))
        numbers = type(seq) is int and (prev is None or type(prev) is int)
        if not numbers or seq != count + 1 or prev != last:
            raise CompletenessError(
                f"broken chain: entry {index} says it is entry {seq} of {subject} after entry {prev}, "
                f"the log gives entry {count + 1} after entry {last}"
            )
        self.heads[subject] = self.changed[subject] = (count + 1, index)
        self.chained = True
        self.size += 1

    def root(self) -> bytes:
        """Return the root of the subjects' index over the entries appended so far."""
        if self.changed:
            self.map.update({key_of(subject): head for subject, head in self.changed.items()})
            self.changed.clear()
        return self.map.root()


# The completeness bundle: everything a resident needs to prove they saw every entry about them.


def _b64(text, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (TypeError, ValueError):
        raise CompletenessError(f"{what} is not base64") from None


def completeness_verify(
    bundle: dict, *, log_key: str, witness_keys: list, min_witnesses: int = 0, leaf_of=None
) -> dict:
    """Check a completeness bundle and return what it proves, or raise CompletenessError naming the first failure.

    Returns {"tree_size", "count", "sealed": [{"index", "unseal_on"}], "entries": [decoded entries],
    "witnesses", "witnessed_at"}. LEAF_OF(item, entry_bytes), if given, returns the bytes the log's leaf
    hashes for an entry item; by default the salted commitment of log format v2 when the item has a
    "salt", else the entry bytes themselves (format v1).
    """
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise CompletenessError(f"not a completeness bundle (format {BUNDLE_FORMAT})")
    try:
        body, _, size, root = tlog.checkpoint_verify(bundle["checkpoint"], log_key)
    except tlog.TlogError as error:
        raise CompletenessError(f"bad checkpoint: {error}") from None
    if bundle.get("tree_size") != size:
        raise CompletenessError(
            f"bad checkpoint: the bundle claims tree size {bundle.get('tree_size')}, the checkpoint says {size}"
        )
    index_root = index_root_of(body)
    if index_root is None:
        raise CompletenessError("bad checkpoint: it carries no index line, so it proves no count")
    witnesses = tlog.cosignatures_verify(bundle["checkpoint"], witness_keys)
    if len(witnesses) < min_witnesses:
        raise CompletenessError(f"too few witnesses: {len(witnesses)} valid cosignatures, {min_witnesses} required")
    subjects = bundle.get("subjects")
    if not isinstance(subjects, list) or not subjects:
        raise CompletenessError("the bundle names no subject tag")
    expected = {}
    for subject in subjects:
        tag = subject.get("tag") if isinstance(subject, dict) else None
        if not isinstance(tag, str) or tag in expected:
            raise CompletenessError("a subject tag is missing or repeated")
        count, last = proof_verify(index_root, key_of(tag), subject.get("proof"))
        if subject.get("count") != count or subject.get("last_index") != last:
            raise CompletenessError(
                f"wrong count: the map proof for {tag} says {count} entries (last {last}), "
                f"the bundle says {subject.get('count')} (last {subject.get('last_index')})"
            )
        expected[tag] = (count, last)
    items = bundle.get("entries")
    if not isinstance(items, list):
        raise CompletenessError("the bundle has no entry list")
    chains = {tag: [] for tag in expected}
    decoded, sealed, previous = [], [], -1
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        if not isinstance(index, int) or isinstance(index, bool):
            raise CompletenessError("an entry has no index")
        if index <= previous:
            raise CompletenessError(
                f"reordered: entry {index} comes after entry {previous}; entries must be oldest first"
            )
        previous = index
        data = _b64(item.get("entry_bytes"), f"entry {index}'s bytes")
        try:
            entry = json.loads(data)
        except ValueError:
            raise CompletenessError(f"entry {index}'s bytes are not JSON") from None
        if not isinstance(entry, dict) or entry.get("index") != index:
            raise CompletenessError(f"entry {index}'s bytes name another index")
        path = [_b64(hash_, f"entry {index}'s inclusion proof") for hash_ in item.get("path") or []]
        if leaf_of is not None:
            leaf = leaf_of(item, data)
        elif "salt" in item:  # log format v2: the public leaf is the salted commitment (tlog.leaf_bytes)
            try:
                leaf = tlog.leaf_bytes(data, _b64(item["salt"], f"entry {index}'s salt"))
            except tlog.TlogError as error:
                raise CompletenessError(f"entry {index}: {error}") from None
        else:
            leaf = data
        if not tlog.verify_inclusion(index, size, tlog.leaf_hash(leaf), path, root):
            raise CompletenessError(f"bad inclusion proof: entry {index} is not in the signed tree of size {size}")
        tag = entry.get("subject")
        if tag not in chains:
            raise CompletenessError(f"entry {index} is about another subject than the bundle's")
        chains[tag].append(entry)
        decoded.append(entry)
        if isinstance(entry.get("sealed"), dict):
            opening = item.get("opening")
            if opening is None:
                sealed.append({"index": index, "unseal_on": entry["sealed"].get("unseal_on")})
            else:
                entry = {**entry, **_opening_check(index, entry["sealed"], opening)}
                decoded[-1] = entry
    for tag, entries in chains.items():
        _chain_check(tag, entries, *expected[tag])
    return {
        "tree_size": size,
        "count": sum(count for count, _ in expected.values()),
        "sealed": sealed,
        "entries": decoded,
        "witnesses": witnesses,
        "witnessed_at": _witnessed_at(bundle["checkpoint"], witness_keys, witnesses),
    }


def _opening_check(index: int, sealed: dict, opening) -> dict:
    """Return the released contents of sealed entry INDEX once OPENING (contents and salt) hashes to its commitment."""
    try:
        contents = opening["contents"].encode()
        salt = base64.b64decode(opening["salt"], validate=True)
        commitment = base64.b64decode(sealed["commitment"], validate=True)
        released = json.loads(contents)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise CompletenessError(f"bad opening: sealed entry {index}'s released contents are malformed") from None
    if sealed_commitment(salt, contents) != commitment or not isinstance(released, dict):
        raise CompletenessError(f"bad opening: sealed entry {index}'s released contents do not match its commitment")
    return {"released": released}


def _chain_check(tag: str, entries: list, count: int, last) -> None:
    """Check that ENTRIES (oldest first) are SUBJECT's whole chain: 1 to COUNT, each naming the one before."""
    if len(entries) != count:
        if len(entries) < count:
            held = {entry["index"] for entry in entries}
            for entry in entries:
                prev = entry.get("subject_prev")
                if prev is not None and prev not in held:
                    raise CompletenessError(
                        f"missing link: entry {entry['index']} names entry {prev} as {tag}'s previous entry, "
                        "and the bundle lacks it"
                    )
        raise CompletenessError(f"wrong count: the map says {tag} has {count} entries, the bundle holds {len(entries)}")
    expected_prev = None
    for position, entry in enumerate(entries, start=1):
        if entry.get("subject_seq") != position:
            raise CompletenessError(
                f"missing link: entry {entry['index']} is {tag}'s entry number {entry.get('subject_seq')}, "
                f"but it is number {position} in the bundle"
            )
        if entry.get("subject_prev") != expected_prev:
            raise CompletenessError(
                f"missing link: entry {entry['index']} names entry {entry.get('subject_prev')} as {tag}'s previous "
                f"entry, but the bundle's previous one is {expected_prev}"
            )
        expected_prev = entry["index"]
    if expected_prev != last:
        raise CompletenessError(
            f"missing link: the map says {tag}'s newest entry is {last}, the bundle's is {expected_prev}"
        )


def _witnessed_at(note: str, witness_keys: list, names: list):
    """Return the newest timestamp among the valid cosignatures by NAMES, or None."""
    if not names:
        return None
    _, signatures = tlog.note_split(note)
    stamps = [int.from_bytes(raw[4:12], "big") for signer, raw in signatures if signer in names and len(raw) == 76]
    return max(stamps) if stamps else None
