#!/usr/bin/env python3
"""Witness a OneCard ledger: fetch its checkpoint, check consistency, cosign, post back.

Standalone on purpose: only the Python standard library and ``cryptography``,
no code shared with OneCard beyond ``tlog.py`` next to it (copy both). A
partner runs it from cron:

    python onecard_witness.py generate-key --name witness.example/w1 --key-file w1.key
        (prints the verifier key to register with the log operator)
    python onecard_witness.py run --log https://onecard.example --log-key 'onecard.example/ledger+…'
        --name witness.example/w1 --key-file w1.key --state w1-state.json

``run`` verifies the log's signature on the checkpoint, then a consistency
proof (RFC 9162 §2.1.4.2) from the last checkpoint this witness saw, which it
keeps in the state file. Only then does it cosign (C2SP tlog-cosignature/v1)
and post. A log that rewrote history, or shrank, is refused and reported with
exit status 1; the state file is left untouched.
"""

import argparse
import base64
import json
import os
import sys
import tempfile
import time
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

if __package__:
    from . import tlog
else:  # run as a script: tlog.py sits next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tlog

verify_consistency = tlog.verify_consistency


class WitnessRefused(tlog.TlogError):
    pass


def verifier_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return this witness's cosignature/v1 verifier key, for the log operator to register."""
    return tlog.verifier_key(name, tlog.ALGORITHM_COSIGNATURE_V1, private_key.public_key().public_bytes_raw())


def checkpoint_check(note: str, log_key: str) -> tuple:
    """Return (body, size, root) of NOTE once the log key's signature on it verifies."""
    try:
        body, _, size, root = tlog.checkpoint_verify(note, log_key)
    except tlog.TlogError as error:
        raise WitnessRefused(str(error)) from error
    return body, size, root


def cosign(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """Return the tlog-cosignature/v1 line on checkpoint BODY."""
    return tlog.cosignature_line(body, name, private_key, timestamp)


def state_load(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def state_save(path: str, state: dict) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(handle.name, path)


def witness_once(*, fetch, post, log_key: str, name: str, private_key, state_path: str, now=time.time) -> dict:
    """Check the log's newest checkpoint against the last one seen, cosign it and post the cosignature."""
    body, size, root = checkpoint_check(fetch("/ledger/checkpoint"), log_key)
    state = state_load(state_path)
    if state is not None:
        seen_size, seen_root = state["tree_size"], base64.b64decode(state["root"])
        if size < seen_size:
            raise WitnessRefused(f"the log shrank from {seen_size} to {size}")
        if size > seen_size:
            proof = json.loads(fetch(f"/ledger/proof/consistency?first={seen_size}&second={size}"))
            path = [base64.b64decode(item) for item in proof["path"]]
            if not verify_consistency(seen_size, size, seen_root, root, path):
                raise WitnessRefused(f"size {size} is not consistent with size {seen_size} seen before")
        elif root != seen_root:
            raise WitnessRefused(f"two different roots for size {size}: the log forked")
    state_save(state_path, {"tree_size": size, "root": base64.b64encode(root).decode()})
    line = cosign(body, name, private_key, int(now()))
    post("/ledger/cosignature", f"{body}\n{line}\n")
    return {"tree_size": size, "root": base64.b64encode(root).decode()}


def _http(base: str):
    def fetch(path: str) -> str:
        with urllib.request.urlopen(base.rstrip("/") + path, timeout=30) as response:
            return response.read().decode()

    def post(path: str, body: str) -> str:
        request = urllib.request.Request(
            base.rstrip("/") + path, data=body.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode()

    return fetch, post


def _private_key(path: str) -> Ed25519PrivateKey:
    with open(path, encoding="ascii") as handle:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(handle.read().strip()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Witness a OneCard ledger.")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate-key", help="create a witness key and print its verifier key")
    generate.add_argument("--name", required=True)
    generate.add_argument("--key-file", required=True)
    run = commands.add_parser("run", help="check, cosign and post the newest checkpoint")
    run.add_argument("--log", required=True, help="base URL of the OneCard site")
    run.add_argument("--log-key", required=True, help="the log's note verifier key")
    run.add_argument("--name", required=True)
    run.add_argument("--key-file", required=True)
    run.add_argument("--state", required=True, help="where the last checkpoint seen is kept")
    args = parser.parse_args(argv)
    if args.command == "generate-key":
        seed = os.urandom(32)
        fd = os.open(args.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(seed).decode() + "\n")
        print(verifier_key(args.name, Ed25519PrivateKey.from_private_bytes(seed)))
        return 0
    fetch, post = _http(args.log)
    try:
        result = witness_once(
            fetch=fetch,
            post=post,
            log_key=args.log_key,
            name=args.name,
            private_key=_private_key(args.key_file),
            state_path=args.state,
        )
    except (WitnessRefused, OSError, ValueError, KeyError) as error:
        print(f"REFUSED: {error}", file=sys.stderr)
        return 1
    print(f"cosigned tree size {result['tree_size']} root {result['root']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
