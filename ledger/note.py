"""C2SP signed notes: tlog-checkpoint bodies, Ed25519 note signatures and tlog-cosignature/v1."""

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM_ED25519 = 0x01
ALGORITHM_COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "


class NoteError(ValueError):
    """A note, key or signature line is malformed or does not verify."""


def key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """Return the 4-byte signed-note key ID of NAME's key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Return the raw 32-byte public key."""
    return private_key.public_key().public_bytes_raw()


def verifier_key(name: str, public_key: bytes, *, algorithm: int = ALGORITHM_ED25519) -> str:
    """Return the note verifier key ``<name>+<hex key id>+<base64(alg || key)>``."""
    encoded = base64.b64encode(bytes([algorithm]) + public_key).decode()
    return f"{name}+{key_id(name, algorithm, public_key).hex()}+{encoded}"


def verifier_key_parse(text: str) -> tuple[str, int, bytes]:
    """Return (name, algorithm, public key) of a verifier key, checking its key ID."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        identifier = bytes.fromhex(hex_id)
    except ValueError as error:
        raise NoteError("a verifier key reads <name>+<hex key id>+<base64 key>") from error
    if not name or len(raw) != 33 or raw[0] not in (ALGORITHM_ED25519, ALGORITHM_COSIGNATURE_V1):
        raise NoteError("the verifier key must hold a 32-byte Ed25519 key")
    if key_id(name, raw[0], raw[1:]) != identifier:
        raise NoteError("the verifier key's key ID does not match its name and key")
    return name, raw[0], raw[1:]


def checkpoint_body(origin: str, tree_size: int, root: bytes, index_root: bytes | None = None) -> str:
    """Return the checkpoint lines: origin, tree size, base64 root, and the ``index`` extension line if INDEX_ROOT."""
    body = f"{origin}\n{tree_size}\n{base64.b64encode(root).decode()}\n"
    if index_root is not None:
        body += f"index {base64.b64encode(index_root).decode()}\n"
    return body


def checkpoint_parse(body: str) -> tuple[str, int, bytes]:
    """Return (origin, tree size, root) of a checkpoint body."""
    lines = body.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise NoteError("a checkpoint starts with origin, tree size and root lines")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except ValueError as error:
        raise NoteError("the checkpoint's tree size or root is malformed") from error
    if size < 0 or str(size) != lines[1] or len(root) != 32:
        raise NoteError("the checkpoint's tree size or root is malformed")
    return lines[0], size, root


def note_sign(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return BODY signed by NAME as a signed note."""
    identifier = key_id(name, ALGORITHM_ED25519, public_bytes(private_key))
    signature = private_key.sign(body.encode())
    return f"{body}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(identifier + signature).decode()}\n"


def note_split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Return the body and the (name, decoded signature) lines of a signed note."""
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise NoteError("a signed note has a body, a blank line and signature lines")
    lines = []
    for line in signatures.rstrip("\n").split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            lines.append((name, base64.b64decode(encoded, validate=True)))
        except ValueError as error:
            raise NoteError("a signature line ends in base64") from error
    return body + "\n", lines


def note_verify(note: str, key: str) -> str:
    """Return the body of NOTE once KEY's signature on it checks out."""
    name, algorithm, public_key = verifier_key_parse(key)
    body, signatures = note_split(note)
    identifier = key_id(name, algorithm, public_key)
    for signer, raw in signatures:
        if signer == name and raw[:4] == identifier:
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(raw[4:], body.encode())
            except InvalidSignature:
                break
            return body
    raise NoteError(f"no valid signature by {name} on the note")


def cosignature_message(body: str, timestamp: int) -> bytes:
    """Return the bytes a tlog-cosignature/v1 signs for BODY at TIMESTAMP."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosignature_line(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """Return the cosignature line of witness NAME on checkpoint BODY."""
    identifier = key_id(name, ALGORITHM_COSIGNATURE_V1, public_bytes(private_key))
    signature = private_key.sign(cosignature_message(body, timestamp))
    encoded = base64.b64encode(identifier + timestamp.to_bytes(8, "big") + signature).decode()
    return f"{SIGNATURE_PREFIX}{name} {encoded}"


def cosignature_verify(body: str, name: str, raw: bytes, public_key: bytes) -> int:
    """Return the timestamp of witness NAME's cosignature RAW on BODY, or raise NoteError."""
    if len(raw) != 76 or raw[:4] != key_id(name, ALGORITHM_COSIGNATURE_V1, public_key):
        raise NoteError(f"the cosignature is not from {name}'s registered key")
    timestamp = int.from_bytes(raw[4:12], "big")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw[12:], cosignature_message(body, timestamp))
    except InvalidSignature as error:
        raise NoteError(f"{name}'s cosignature does not verify") from error
    return timestamp
