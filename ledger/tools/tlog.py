"""Transparency-log proof code shared by the standalone OneCard tools.

Standalone on purpose: only the Python standard library and ``cryptography``,
no code shared with OneCard itself, so anyone can read it in full. The tools
next to it import it as ``tlog`` when run as scripts; copy it alongside them.

- RFC 9162 §2.1 inclusion and consistency proof verification;
- C2SP signed-note parsing, note verifier keys, Ed25519 note signatures and
  tlog-cosignature/v1 cosignatures (c2sp.org/signed-note, tlog-checkpoint,
  tlog-cosignature).
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
