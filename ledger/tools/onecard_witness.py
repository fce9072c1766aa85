#!/usr/bin/env python3
"""A C2SP tlog-witness server for OneCard's ledger (c2sp.org/tlog-witness).

Standalone on purpose: only the Python standard library, ``cryptography`` and
``tlog.py`` next to it (copy both), so the organisation that runs a witness
(an audit office, a data-protection authority, a court) can read it in full
and run it on its own machine:

    python onecard_witness.py generate-key --name witness.example/w1 --key-file w1.key
        (prints the verifier key to give to the log operator for its witness policy)
    python onecard_witness.py serve --name witness.example/w1 --key-file w1.key --state-dir /var/lib/w1
        --log-key 'onecard.example/ledger+…' [--log-key …] [--listen 127.0.0.1:7380]

The log POSTs each new checkpoint to ``/add-checkpoint``: a line ``old <size>``,
the RFC 9162 consistency proof from that size (one base64 hash a line), a
blank line and the checkpoint signed by the log. The witness checks the log's
signature (404 for an unknown origin, 403 for no valid signature), that OLD is
the size it cosigned last (409 with a ``text/x.tlog.size`` body naming it),
and the proof (422); a checkpoint of the same size with another root is a
fork (409), and so is one with the same size and root but other extension
lines than the one cosigned (for OneCard, another ``index`` root of the same
entries: the log signed two versions of one tree). C2SP tlog-witness only
compares roots; this witness keeps the whole body of a size consistent.
Only then does it store the checkpoint and answer with its
tlog-cosignature/v1 line. The check and the write happen under one file lock,
and the write is an atomic rename, so two requests cannot roll the state back.

The state directory is the witness's own, never the log's database: one
directory per log origin holding ``latest`` (the last cosigned checkpoint with
the cosignature), ``cosigned/`` (every checkpoint it ever cosigned, as
evidence) and ``refused/`` (validly signed requests it refused: evidence of a
log that forked or rewrote history). The witness never forgets what it
cosigned: a log that must start again does so under a new origin.

``GET /checkpoint?origin=<origin>`` answers with the latest cosigned
checkpoint (with this witness's cosignature) so that a verifier can anchor on
it; it is not part of c2sp.org/tlog-witness.
"""

import argparse
import base64
import contextlib
import fcntl
import hashlib
import http.server
import json
import os
import sys
import tempfile
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

if __package__:
    from . import tlog
else:  # run as a script: tlog.py sits next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tlog

DASH = tlog.DASH
SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024


class WitnessRefused(Exception):
    """The witness refuses the request: STATUS is the HTTP status, BODY what it answers."""

    def __init__(self, status: int, message: str, *, body: str | None = None, content_type: str = "text/plain"):
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else message + "\n"
        self.content_type = content_type


verify_consistency = tlog.verify_consistency


def verifier_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return this witness's cosignature/v1 verifier key, for the log operator's witness policy."""
    return tlog.verifier_key(name, tlog.ALGORITHM_COSIGNATURE_V1, private_key.public_key().public_bytes_raw())


def log_key_parse(text: str) -> tuple[str, bytes, bytes]:
    """Return (origin, key id, public key) of a log's Ed25519 note verifier key."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        identifier = bytes.fromhex(hex_id)
    except ValueError as error:
        raise ValueError(f"malformed log key {text!r}") from error
    if len(raw) != 33 or raw[0] != tlog.ALGORITHM_ED25519 or tlog.key_id(name, raw[0], raw[1:]) != identifier:
        raise ValueError(f"log key {text!r} is not an Ed25519 note key matching its key ID")
    return name, identifier, raw[1:]


def checkpoint_split(note: str) -> tuple[str, int, bytes, list[tuple[str, bytes]]]:
    """Return (body, size, root, signatures) of a checkpoint note, or raise ValueError."""
    body, separator, block = note.partition("\n\n")
    if not separator or not block.endswith("\n"):
        raise ValueError("a checkpoint is a body, a blank line and signature lines")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise ValueError("a checkpoint starts with origin, size and root lines")
    if not lines[1].isdigit() or lines[1] != str(int(lines[1])):
        raise ValueError("the checkpoint's size is not a decimal without leading zeroes")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError("the checkpoint's root is not a 32-byte hash")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(DASH):
            raise ValueError("a signature line starts with an em dash and a space")
        signer, _, value = line[len(DASH) :].rpartition(" ")
        signatures.append((signer, base64.b64decode(value, validate=True)))
    return body, int(lines[1]), root, signatures


def signature_valid(body: str, signatures, origin: str, identifier: bytes, public: bytes) -> bool:
    """Return whether one of SIGNATURES is the log's valid Ed25519 signature on BODY."""
    for signer, raw in signatures:
        if signer != origin or raw[:4] != identifier:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
        except InvalidSignature:
            continue
        return True
    return False


def cosign(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """Return the tlog-cosignature/v1 line on checkpoint BODY."""
    return tlog.cosignature_line(body, name, private_key, timestamp)


def request_parse(text: str) -> tuple[int, list[bytes], str]:
    """Return (old size, proof, checkpoint note) of an add-checkpoint request body, or raise ValueError."""
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise ValueError("the request needs an old size line, proof lines, a blank line and the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old ") or not lines[0][4:].isdigit() or lines[0][4:] != str(int(lines[0][4:])):
        raise ValueError("the first line must be 'old <size>' in decimal without leading zeroes")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError(f"at most {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        value = base64.b64decode(line, validate=True)
        if len(value) != 32:
            raise ValueError("each proof line is one base64 SHA-256 hash")
        proof.append(value)
    return int(lines[0][4:]), proof, note


def _write_atomic(path: str, data: str) -> None:
    directory = os.path.dirname(path)
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, path)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Witness:
    """One witness identity: its key, the logs it follows and its state directory."""

    def __init__(
        self, *, name: str, private_key: Ed25519PrivateKey, state_dir: str, log_keys: list[str], now=time.time
    ):
        self.name = name
        self.private_key = private_key
        self.state_dir = os.path.abspath(state_dir)
        self.now = now
        self.logs = {}
        for text in log_keys:
            origin, identifier, public = log_key_parse(text)
            self.logs[origin] = (identifier, public)
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)

    def _log_dir(self, origin: str) -> str:
        digest = hashlib.sha256(origin.encode()).hexdigest()[:32]
        path = os.path.join(self.state_dir, "logs", digest)
        for sub in ("cosigned", "refused"):
            os.makedirs(os.path.join(path, sub), mode=0o700, exist_ok=True)
        origin_file = os.path.join(path, "origin")
        if not os.path.exists(origin_file):
            _write_atomic(origin_file, origin + "\n")
        return path

    @contextlib.contextmanager
    def _locked(self, origin: str):
        directory = self._log_dir(origin)
        with open(os.path.join(directory, "lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield directory
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def latest(self, origin: str) -> str | None:
        """Return the last checkpoint cosigned for ORIGIN, with this witness's cosignature, or None."""
        if origin not in self.logs:
            return None
        try:
            with open(os.path.join(self._log_dir(origin), "latest"), encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def cosigned(self, origin: str) -> list[str]:
        """Return every checkpoint ever cosigned for ORIGIN, oldest first."""
        directory = os.path.join(self._log_dir(origin), "cosigned")
        notes = []
        for filename in sorted(os.listdir(directory)):
            with open(os.path.join(directory, filename), encoding="utf-8") as handle:
                notes.append(handle.read())
        return notes

    def _refused_keep(self, directory: str, text: str, reason: str) -> None:
        stamp = f"{time.time_ns()}-{os.getpid()}"
        _write_atomic(os.path.join(directory, "refused", f"{stamp}.txt"), f"{reason}\n\n{text}")

    def add_checkpoint(self, text: str) -> str:
        """Check and cosign one add-checkpoint request; return the cosignature line, or raise WitnessRefused."""
        try:
            old, proof, note = request_parse(text)
            body, size, root, signatures = checkpoint_split(note)
        except ValueError as error:
            raise WitnessRefused(400, f"malformed request: {error}") from None
        origin = body.split("\n", 1)[0]
        if origin not in self.logs:
            raise WitnessRefused(404, f"unknown log {origin!r}")
        identifier, public = self.logs[origin]
        if not signature_valid(body, signatures, origin, identifier, public):
            raise WitnessRefused(403, "no valid signature by the log's key on the checkpoint")
        if old > size:
            raise WitnessRefused(400, f"old size {old} is larger than the checkpoint's size {size}")
        with self._locked(origin) as directory:
            latest = self.latest(origin)
            seen_body, seen_size, seen_root = None, 0, None
            if latest is not None:
                seen_body, seen_size, seen_root, _ = checkpoint_split(latest)
            if old != seen_size:
                raise WitnessRefused(
                    409, f"the last size cosigned is {seen_size}", body=f"{seen_size}\n", content_type=SIZE_CONTENT_TYPE
                )
            if size == seen_size and seen_root is not None and root != seen_root:
                self._refused_keep(directory, text, f"fork: another root for size {size}")
                raise WitnessRefused(409, f"another root for size {size} was cosigned: the log forked")
            if size == seen_size and root == seen_root and body != seen_body:
                # The same tree under other extension lines: for OneCard, another index root of the same entries.
                self._refused_keep(directory, text, f"equivocation: other extension lines for size {size}")
                raise WitnessRefused(
                    409, f"size {size} was cosigned with other extension lines: the log signed two versions of it"
                )
            if old == 0 and proof:
                raise WitnessRefused(422, "the proof must be empty from size 0")
            if seen_root is not None and not verify_consistency(seen_size, size, seen_root, root, proof):
                self._refused_keep(directory, text, f"inconsistent with size {seen_size}")
                raise WitnessRefused(422, f"the consistency proof from size {seen_size} does not verify")
            line = cosign(body, self.name, self.private_key, int(self.now()))
            cosigned = f"{body}\n{DASH}{signature_line_of(signatures, origin, identifier)}\n{line}\n"
            evidence = os.path.join(directory, "cosigned", f"{size:020d}-{root.hex()[:16]}.txt")
            if not os.path.exists(evidence):
                _write_atomic(evidence, cosigned)
            _write_atomic(os.path.join(directory, "latest"), cosigned)
        return line + "\n"


def signature_line_of(signatures, origin: str, identifier: bytes) -> str:
    """Return the log's own signature line (without the dash) from SIGNATURES."""
    for signer, raw in signatures:
        if signer == origin and raw[:4] == identifier:
            return f"{signer} {base64.b64encode(raw).decode()}"
    raise ValueError("no signature by the log")


def handler_for(witness: Witness):
    """Return an HTTP request handler class serving WITNESS."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "onecard-witness"

        def _answer(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path != "/add-checkpoint":
                self._answer(404, "not found\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413, "request too large\n")
                return
            try:
                text = self.rfile.read(length).decode("utf-8")
            except UnicodeDecodeError:
                self._answer(400, "the request body must be UTF-8\n")
                return
            try:
                line = witness.add_checkpoint(text)
            except WitnessRefused as refused:
                self.log_message("refused (%d): %s", refused.status, refused)
                self._answer(refused.status, refused.body, refused.content_type)
                return
            self._answer(200, line)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/checkpoint":
                self._answer(404, "not found\n")
                return
            origin = urllib.parse.parse_qs(url.query).get("origin", [""])[0]
            latest = witness.latest(origin)
            if latest is None:
                self._answer(404, f"no checkpoint cosigned for {origin!r}\n")
                return
            self._answer(200, latest)

    return Handler


def _private_key(path: str) -> Ed25519PrivateKey:
    with open(path, encoding="ascii") as handle:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(handle.read().strip()))


def key_generate(path: str) -> Ed25519PrivateKey:
    """Write a new private key to PATH (base64 seed, mode 0600), refusing to overwrite one."""
    seed = os.urandom(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(seed).decode() + "\n")
    return Ed25519PrivateKey.from_private_bytes(seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A C2SP tlog-witness for OneCard's ledger.")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate-key", help="create a witness key and print its verifier key")
    generate.add_argument("--name", required=True)
    generate.add_argument("--key-file", required=True)
    show = commands.add_parser("show-key", help="print the verifier key of an existing key file")
    show.add_argument("--name", required=True)
    show.add_argument("--key-file", required=True)
    serve = commands.add_parser("serve", help="serve POST /add-checkpoint")
    serve.add_argument("--name", required=True)
    serve.add_argument("--key-file", required=True)
    serve.add_argument("--state-dir", required=True, help="the witness's own directory: never the log's")
    serve.add_argument("--log-key", action="append", required=True, help="a log's note verifier key (repeatable)")
    serve.add_argument("--listen", default="127.0.0.1:7380", help="host:port (port 0 picks a free one)")
    args = parser.parse_args(argv)
    if args.command == "generate-key":
        print(verifier_key(args.name, key_generate(args.key_file)))
        return 0
    if args.command == "show-key":
        print(verifier_key(args.name, _private_key(args.key_file)))
        return 0
    try:
        witness = Witness(
            name=args.name, private_key=_private_key(args.key_file), state_dir=args.state_dir, log_keys=args.log_key
        )
    except (OSError, ValueError) as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    host, _, port = args.listen.rpartition(":")
    server = http.server.ThreadingHTTPServer((host, int(port)), handler_for(witness))
    print(json.dumps({"listening": f"http://{host}:{server.server_address[1]}", "name": args.name}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
