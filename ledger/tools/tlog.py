"""Transparency-log proof code shared by the standalone OneCard tools.

Standalone on purpose: only the Python standard library and ``cryptography``,
no code shared with OneCard itself, so anyone can read it in full. The tools
next to it import it as ``tlog`` when run as scripts; copy it alongside them.

- RFC 9162 §2.1 inclusion and consistency proof verification;
- C2SP signed-note parsing, note verifier keys, Ed25519 note signatures and
  tlog-cosignature/v1 cosignatures (c2sp.org/signed-note, tlog-checkpoint,
  tlog-cosignature);
- OneCard's public leaves (``leaf_bytes``): a salted commitment to each entry,
  so the tiles anyone may download reveal nothing about the resident;
- C2SP tlog-tiles paths, tiles and entry bundles, and a client that rebuilds a
  log from them (``log_follow``).
"""

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DASH = "\u2014 "
ALGORITHM_ED25519 = 0x01
ALGORITHM_COSIGNATURE_V1 = 0x04


class TlogError(ValueError):
    """A proof, note, key or signature is malformed or does not verify."""


# OneCard's public leaves (docs/ledger.md, "Leaves"). Log format v2: a leaf is
# a version byte, then either a salted SHA-256 commitment to the entry's
# canonical bytes (every access), or, for the one leaf that starts a log after
# an older one was sealed, the entry's bytes in clear (they name only the
# sealed log's final checkpoint). Format v1 leaves were the entry bytes
# themselves; ``bundle_leaf`` still reads v1 proof bundles.

LEAF_COMMITMENT = 0x01
LEAF_LOG_START = 0x02
SALT_SIZE = 32
COMMITMENT_DOMAIN = b"onecard ledger entry commitment v2\x00"
COMMITMENT_LEAF_SIZE = 33


def leaf_bytes(entry_bytes: bytes, salt: bytes) -> bytes:
    """Return the public leaf of an entry: 0x01 || SHA-256(domain || salt || entry bytes), or 0x02 || bytes unsalted.

    An empty SALT is the log-start leaf only, whose bytes name the sealed
    previous log's final checkpoint and nothing about any resident.
    """
    if len(salt) == SALT_SIZE:
        return bytes([LEAF_COMMITMENT]) + hashlib.sha256(COMMITMENT_DOMAIN + salt + entry_bytes).digest()
    if not salt:
        return bytes([LEAF_LOG_START]) + entry_bytes
    raise TlogError(f"a salt is {SALT_SIZE} bytes (or empty for the log-start leaf), not {len(salt)}")


def bundle_leaf(bundle: dict) -> tuple:
    """Return (entry bytes, public leaf) of a proof bundle of format v1 (leaf = entry bytes) or v2 (salted)."""
    data = base64.b64decode(bundle["entry_bytes"], validate=True)
    if bundle.get("format") == "onecard-proof-bundle/v1":
        return data, data
    if bundle.get("format") != "onecard-proof-bundle/v2":
        raise TlogError(f"unknown proof bundle format {bundle.get('format')!r}")
    return data, leaf_bytes(data, base64.b64decode(bundle.get("salt", ""), validate=True))


# RFC 9162 §2.1: hashing and proof verification.


def leaf_hash(data: bytes) -> bytes:
    """Return SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, path: list, root: bytes) -> bool:
    """Return whether PATH proves leaf hash LEAF at INDEX in the tree of SIZE with ROOT (RFC 9162 §2.1.3.2)."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: list) -> bool:
    """Return whether PATH proves tree FIRST a prefix of tree SECOND (RFC 9162 §2.1.4.2; empty fits all)."""
    if first > second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# C2SP signed notes, checkpoints and cosignatures.


def key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """Return the 4-byte signed-note key ID of NAME's key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


def verifier_key(name: str, algorithm: int, public_key: bytes) -> str:
    """Return the note verifier key ``<name>+<hex key id>+<base64(algorithm || key)>``."""
    encoded = base64.b64encode(bytes([algorithm]) + public_key).decode()
    return f"{name}+{key_id(name, algorithm, public_key).hex()}+{encoded}"


def verifier_key_parse(text: str) -> tuple:
    """Return (name, algorithm, key id, public key) of a note verifier key, checking its key ID."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        identifier = bytes.fromhex(hex_id)
    except ValueError as error:
        raise TlogError(f"malformed verifier key {text!r}") from error
    if len(raw) != 33 or key_id(name, raw[0], raw[1:]) != identifier:
        raise TlogError(f"verifier key {text!r} does not match its key ID")
    return name, raw[0], identifier, raw[1:]


def note_split(note: str) -> tuple:
    """Return the body and the (name, decoded signature) pairs of a signed note; skip unreadable lines."""
    body, _, signature_block = note.partition("\n\n")
    signatures = []
    for line in signature_block.strip("\n").split("\n"):
        if line.startswith(DASH):
            name, _, encoded = line[len(DASH) :].rpartition(" ")
            try:
                signatures.append((name, base64.b64decode(encoded, validate=True)))
            except ValueError:
                continue
    return body + "\n", signatures


def checkpoint_verify(note: str, log_key: str) -> tuple:
    """Return (body, origin, size, root) of checkpoint NOTE once LOG_KEY's Ed25519 signature on it verifies."""
    name, algorithm, identifier, public = verifier_key_parse(log_key)
    if algorithm != ALGORITHM_ED25519:
        raise TlogError("the log key must be an Ed25519 note key")
    body, signatures = note_split(note)
    for signer, raw in signatures:
        if signer == name and raw[:4] == identifier:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
            except InvalidSignature:
                break
            lines = body.split("\n")
            if lines[0] != name:
                raise TlogError(f"checkpoint origin {lines[0]!r} is not the key's log {name!r}")
            try:
                size, root = int(lines[1]), base64.b64decode(lines[2], validate=True)
            except (IndexError, ValueError) as error:
                raise TlogError("the checkpoint's tree size or root is malformed") from error
            if size < 0 or len(root) != 32:
                raise TlogError("the checkpoint's tree size or root is malformed")
            return body, lines[0], size, root
    raise TlogError("the checkpoint is not signed by the log key")


def cosignature_message(body: str, timestamp: int) -> bytes:
    """Return the bytes a tlog-cosignature/v1 signs for checkpoint BODY at TIMESTAMP."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosignature_line(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """Return witness NAME's tlog-cosignature/v1 signature line on checkpoint BODY."""
    public = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(cosignature_message(body, timestamp))
    raw = key_id(name, ALGORITHM_COSIGNATURE_V1, public) + timestamp.to_bytes(8, "big") + signature
    return f"{DASH}{name} {base64.b64encode(raw).decode()}"


def cosignatures_verify(note: str, witness_keys: list) -> list:
    """Return the names of witnesses in WITNESS_KEYS whose cosignature on NOTE verifies."""
    body, signatures = note_split(note)
    valid = []
    for key in witness_keys:
        name, algorithm, identifier, public = verifier_key_parse(key)
        for signer, raw in signatures:
            if signer != name or algorithm != ALGORITHM_COSIGNATURE_V1 or len(raw) != 76 or raw[:4] != identifier:
                continue
            timestamp = int.from_bytes(raw[4:12], "big")
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], cosignature_message(body, timestamp))
            except InvalidSignature:
                continue
            valid.append(name)
            break
    return valid


# C2SP tlog-tiles: paths, tiles and entry bundles.

TILE_WIDTH = 256
TILE_HEIGHT = 8
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def tile_path(level, index: int, width: int = TILE_WIDTH) -> str:
    """Return the tlog-tiles path of a tile: ``tile/<L>/<N>[.p/<W>]``, LEVEL "entries" for an entry bundle."""
    if not 1 <= width <= TILE_WIDTH or index < 0:
        raise TlogError(f"no tile of index {index} and width {width}")
    digits = f"{index:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    encoded = "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encoded}{suffix}"


def tile_path_parse(path: str) -> tuple:
    """Return (level, index, width) of a canonical tile path; level is "entries" for an entry bundle."""
    parts = path.split("/")
    width = TILE_WIDTH
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        width_text = parts.pop()
        parts[-1] = parts[-1][: -len(".p")]
        if not width_text.isdigit() or width_text[0] == "0" or not 1 <= int(width_text) < TILE_WIDTH:
            raise TlogError(f"{path!r}: a partial tile's width is 1 to 255, without leading zeros")
        width = int(width_text)
    if len(parts) < 3 or parts[0] != "tile":
        raise TlogError(f"{path!r} is not tile/<L>/<N>[.p/<W>]")
    level_text, groups = parts[1], parts[2:]
    if level_text == "entries":
        level = "entries"
    elif level_text.isdigit() and (level_text == "0" or level_text[0] != "0") and int(level_text) <= 63:
        level = int(level_text)
    else:
        raise TlogError(f"{path!r}: the level is 0 to 63, without leading zeros, or 'entries'")
    if not all(len(group) == 4 and group[0] == "x" and group[1:].isdigit() for group in groups[:-1]) or not (
        len(groups[-1]) == 3 and groups[-1].isdigit()
    ):
        raise TlogError(f"{path!r}: the index is 3-digit groups, all but the last starting with x")
    index = int("".join(group.lstrip("x") for group in groups))
    if tile_path(level, index, width) != path:
        raise TlogError(f"{path!r} is not the canonical path of its tile")
    return level, index, width


def tile_widths(size: int, level: int) -> list:
    """Return (index, width) of every tile at LEVEL of a tree of SIZE leaves; the last may be partial."""
    count = size // TILE_WIDTH**level
    tiles = [(index, TILE_WIDTH) for index in range(count // TILE_WIDTH)]
    if count % TILE_WIDTH:
        tiles.append((count // TILE_WIDTH, count % TILE_WIDTH))
    return tiles


def tree_levels(size: int) -> int:
    """Return how many tile levels a tree of SIZE leaves has (0 for the empty tree)."""
    levels = 0
    while size >= TILE_WIDTH**levels and size:
        levels += 1
    return levels


def hashes_split(tile: bytes) -> list:
    """Return the 32-byte hashes of a hash tile."""
    if len(tile) % HASH_SIZE or not HASH_SIZE <= len(tile) <= HASH_SIZE * TILE_WIDTH:
        raise TlogError(f"a hash tile holds 1 to 256 hashes of 32 bytes, not {len(tile)} bytes")
    return [tile[i : i + HASH_SIZE] for i in range(0, len(tile), HASH_SIZE)]


def subtree_hash(hashes: list) -> bytes:
    """Return the RFC 9162 hash of consecutive subtrees of equal size, given their hashes, left to right."""
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(subtree_hash(hashes[:split]), subtree_hash(hashes[split:]))


def entries_bundle(leaves: list) -> bytes:
    """Return the entry bundle of LEAVES: each as a big-endian uint16 length, then its bytes."""
    out = bytearray()
    for leaf in leaves:
        if len(leaf) > 0xFFFF:
            raise TlogError(f"a leaf of {len(leaf)} bytes does not fit an entry bundle (at most 65,535)")
        out += len(leaf).to_bytes(2, "big") + leaf
    return bytes(out)


def entries_bundle_parse(data: bytes) -> list:
    """Return the leaves of an entry bundle."""
    leaves, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TlogError("the entry bundle ends inside a length prefix")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise TlogError("the entry bundle ends inside an entry")
        leaves.append(data[offset : offset + length])
        offset += length
    return leaves


class TileBuilder:
    """The tiles of a growing tree: append leaves, collect the tiles they complete, read the partial ones.

    Holds only the rightmost (partial) tile of each level and the partial entry
    bundle, so memory stays small whatever the size of the log.
    """

    def __init__(self) -> None:
        self.size = 0
        self.leaves = []  # the partial entry bundle
        self.partial = []  # per level, the hashes of its partial tile
        self.written = []  # (path, bytes) of tiles completed since the last take_full()

    @classmethod
    def resume(cls, size: int, leaves: list, partial: dict):
        """Return the builder of a tree of SIZE from its partial entry bundle and partial hash tiles {level: hashes}."""
        builder = cls()
        builder.size = size
        builder.leaves = list(leaves)
        for level in range(tree_levels(size)):
            width = (size // TILE_WIDTH**level) % TILE_WIDTH
            hashes = list(partial.get(level, [])) if width else []
            if len(hashes) != width:
                raise TlogError(f"the partial tile of level {level} at size {size} needs {width} hashes")
            builder.partial.append(hashes)
        if len(builder.leaves) != size % TILE_WIDTH:
            raise TlogError(f"the partial entry bundle at size {size} needs {size % TILE_WIDTH} entries")
        if builder.partial and [leaf_hash(leaf) for leaf in builder.leaves] != builder.partial[0]:
            raise TlogError("the partial entry bundle does not hash to the partial level 0 tile")
        return builder

    def append(self, leaf: bytes) -> None:
        """Add one leaf (its bytes, as the entry bundle carries them)."""
        self.extend([leaf])

    def extend(self, leaves: list, hashes: list | None = None) -> None:
        """Add LEAVES in order, a tile's worth at a time (HASHES, if given, are their leaf hashes)."""
        sha256 = hashlib.sha256
        done = 0
        while done < len(leaves):
            take = min(TILE_WIDTH - len(self.leaves), len(leaves) - done)
            segment = leaves[done : done + take]
            if not self.partial:
                self.partial.append([])
            self.leaves += segment
            if hashes is None:
                self.partial[0] += [sha256(b"\x00" + leaf).digest() for leaf in segment]
            else:
                self.partial[0] += hashes[done : done + take]
            done += take
            self.size += take
            if len(self.leaves) == TILE_WIDTH:
                index = (self.size - 1) // TILE_WIDTH
                self.written.append((tile_path("entries", index), entries_bundle(self.leaves)))
                self.leaves = []
                self._full(0, index)

    def _full(self, level: int, index: int) -> None:
        """Emit the full tile INDEX at LEVEL and carry its hash to the level above."""
        tile = self.partial[level]
        self.written.append((tile_path(level, index), b"".join(tile)))
        self.partial[level] = []
        if level + 1 == len(self.partial):
            self.partial.append([])
        above = self.partial[level + 1]
        above.append(_full_tile_hash(tile))
        if len(above) == TILE_WIDTH:
            self._full(level + 1, index // TILE_WIDTH)

    def take_full(self) -> list:
        """Return, and forget, (path, bytes) of the full tiles and bundles completed since the last call."""
        written, self.written = self.written, []
        return written

    def partial_tiles(self) -> list:
        """Return (path, bytes) of the partial tiles and the partial entry bundle of the current size."""
        tiles = [
            (tile_path(level, (self.size // TILE_WIDTH**level) // TILE_WIDTH, len(hashes)), b"".join(hashes))
            for level, hashes in enumerate(self.partial)
            if hashes
        ]
        if self.leaves:
            tiles.append((tile_path("entries", self.size // TILE_WIDTH, len(self.leaves)), entries_bundle(self.leaves)))
        return tiles

    def root(self) -> bytes:
        """Return the RFC 9162 root of the current tree."""
        return root_from_partial_tiles(self.size, self.partial)


def _full_tile_hash(hashes: list) -> bytes:
    """Return the hash of a full tile's 256 hashes, level by level."""
    sha256 = hashlib.sha256
    while len(hashes) > 1:
        hashes = [sha256(b"\x01" + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes), 2)]
    return hashes[0]


def root_from_partial_tiles(size: int, partial: list) -> bytes:
    """Return the root of a tree of SIZE from the hashes of its partial tile at each level (lowest level first)."""
    subtrees = []
    for hashes in reversed(partial):
        start = 0
        while start < len(hashes):
            span = 1 << (len(hashes) - start).bit_length() - 1
            subtrees.append(subtree_hash(hashes[start : start + span]))
            start += span
    if not subtrees:
        return EMPTY_ROOT if size == 0 else _missing(size)
    result = subtrees[-1]
    for left in reversed(subtrees[:-1]):
        result = node_hash(left, result)
    return result


def _missing(size: int):
    raise TlogError(f"no partial tiles given for a tree of size {size}")


# A tlog-tiles client: rebuild and check a log from its checkpoint and tiles alone.


class LogForked(TlogError):
    """The log shrank, or its tiles or checkpoint disagree with what was held before: refuse it."""


def log_follow(fetch, log_key: str, builder=None, on_tile=None) -> tuple:
    """Extend BUILDER (a new one if None) to the log's signed checkpoint; return (note, size, root, builder).

    FETCH(path) returns the bytes at a tlog-tiles path ("checkpoint",
    "tile/..."). The checkpoint's signature is checked against LOG_KEY, every
    new entry is read from the entry bundles, every hash tile the log serves
    for the new size is compared with the one computed from those entries, and
    the result must hash to the checkpoint's root: so the new tree extends the
    one BUILDER held, leaf for leaf. ON_TILE(path, bytes), if given, receives
    each new tile and bundle, partial ones included, before this returns.
    BUILDER is only changed once every check passed.
    """
    note = fetch("checkpoint").decode("utf-8")
    _, _, size, root = checkpoint_verify(note, log_key)
    held = builder or TileBuilder()
    if size < held.size:
        raise LogForked(f"the log shrank from {held.size} to {size} entries")
    if size == held.size:
        if root != held.root():
            raise LogForked(f"two different roots for tree size {size}: the log forked")
        return note, size, root, held
    work = TileBuilder.resume(held.size, held.leaves, dict(enumerate(held.partial)))
    new_tiles = []
    for index, width in tile_widths(size, 0)[held.size // TILE_WIDTH :]:
        leaves = entries_bundle_parse(tile_fetch(fetch, "entries", index, width))
        if len(leaves) != width:
            raise TlogError(f"the entry bundle {tile_path('entries', index, width)} holds {len(leaves)} entries")
        skip = work.size - index * TILE_WIDTH
        if leaves[:skip] != work.leaves[:skip]:
            raise LogForked(f"the log's entries {index * TILE_WIDTH}..{work.size - 1} differ from those held")
        for leaf in leaves[skip:]:
            work.append(leaf)
        new_tiles += work.take_full()
    new_tiles += work.partial_tiles()
    if work.root() != root:
        raise LogForked(f"the log's entries do not hash to its signed root at size {size}")
    for path, data in new_tiles:
        level, index, width = tile_path_parse(path)
        if level != "entries" and tile_fetch(fetch, level, index, width) != data:
            raise TlogError(f"the log's hash tile {path} differs from the one its entries give")
    if on_tile is not None:
        for path, data in new_tiles:
            on_tile(path, data)
    return note, size, root, work


def tile_fetch(fetch, level, index: int, width: int) -> bytes:
    """Return tile (LEVEL, INDEX) at WIDTH; for a partial one the log no longer serves, the start of the full tile."""
    try:
        return fetch(tile_path(level, index, width))
    except OSError:
        if width == TILE_WIDTH:
            raise
    # tlog-tiles lets a log drop a partial tile once the full one exists; clients fall back to it.
    data = fetch(tile_path(level, index))
    if level == "entries":
        return entries_bundle(entries_bundle_parse(data)[:width])
    return data[: width * HASH_SIZE]


def http_fetcher(prefix: str, timeout: float = 30):
    """Return FETCH(path) reading PATH under the tlog-tiles URL PREFIX over HTTP(S)."""
    import urllib.request

    base = prefix.rstrip("/") + "/"

    def fetch(path: str) -> bytes:
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": "identity"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    return fetch
