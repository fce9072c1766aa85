#!/usr/bin/env python3
"""Verify a OneCard ledger proof bundle offline.

Standalone on purpose: it needs only the Python standard library and
``cryptography``, and shares no code with OneCard, so a resident or an auditor
can read it in full and run it anywhere.

    python onecard_verify.py bundle.json --key 'onecard.example/ledger+1a2b3c4d+AX...'
        [--witness-key KEY ...] [--min-witnesses N]

It checks that the checkpoint in the bundle is signed by the log key, that
the entry is included in that checkpoint's tree (RFC 9162 §2.1.3.2), and that
enough known witnesses cosigned the checkpoint (C2SP tlog-cosignature/v1).
Exit status 0 means every check passed, 1 that one failed.
"""

import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014 "


class VerificationFailed(Exception):
    pass


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, path: list, root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
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
    """RFC 9162 §2.1.4.2; the empty tree is consistent with every tree."""
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


def parse_key(text: str) -> tuple:
    """Return (name, algorithm, key id, public key) of a note verifier key."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        identifier = bytes.fromhex(hex_id)
    except ValueError as error:
        raise VerificationFailed(f"malformed verifier key {text!r}") from error
    if len(raw) != 33 or hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()[:4] != identifier:
        raise VerificationFailed(f"verifier key {text!r} does not match its key ID")
    return name, raw[0], identifier, raw[1:]


def split_note(note: str) -> tuple:
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


def check_checkpoint(note: str, log_key: str) -> tuple:
    """Return (origin, size, root) once the log's signature on NOTE verifies."""
    name, algorithm, identifier, public = parse_key(log_key)
    if algorithm != 0x01:
        raise VerificationFailed("the log key must be an Ed25519 note key")
    body, signatures = split_note(note)
    for signer, raw in signatures:
        if signer == name and raw[:4] == identifier:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
            except InvalidSignature:
                break
            lines = body.split("\n")
            if lines[0] != name:
                raise VerificationFailed(f"checkpoint origin {lines[0]!r} is not the key's log {name!r}")
            return lines[0], int(lines[1]), base64.b64decode(lines[2])
    raise VerificationFailed("the checkpoint is not signed by the log key")


def count_cosignatures(note: str, witness_keys: list) -> list:
    """Return the names of witnesses in WITNESS_KEYS whose cosignature on NOTE verifies."""
    body, signatures = split_note(note)
    valid = []
    for key in witness_keys:
        name, algorithm, identifier, public = parse_key(key)
        for signer, raw in signatures:
            if signer != name or algorithm != 0x04 or len(raw) != 76 or raw[:4] != identifier:
                continue
            timestamp = int.from_bytes(raw[4:12], "big")
            message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)
            except InvalidSignature:
                continue
            valid.append(name)
            break
    return valid


def verify_bundle(bundle: dict, *, log_key: str, witness_keys: list, min_witnesses: int) -> dict:
    """Check BUNDLE and return the entry it proves, or raise VerificationFailed."""
    _, size, root = check_checkpoint(bundle["checkpoint"], log_key)
    if size != bundle["tree_size"]:
        raise VerificationFailed(f"the bundle claims tree size {bundle['tree_size']}, the checkpoint says {size}")
    data = base64.b64decode(bundle["entry_bytes"])
    entry = json.loads(data)
    if entry.get("index") != bundle["index"]:
        raise VerificationFailed("the entry bytes name another index than the bundle")
    path = [base64.b64decode(item) for item in bundle["path"]]
    if not verify_inclusion(bundle["index"], size, leaf_hash(data), path, root):
        raise VerificationFailed(f"entry {bundle['index']} is not included in the signed tree of size {size}")
    witnesses = count_cosignatures(bundle["checkpoint"], witness_keys)
    if len(witnesses) < min_witnesses:
        raise VerificationFailed(f"{len(witnesses)} valid cosignatures, {min_witnesses} required")
    return {"entry": entry, "tree_size": size, "witnesses": witnesses}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a OneCard ledger proof bundle offline.")
    parser.add_argument("bundle", help="the proof bundle (JSON file, or - for standard input)")
    parser.add_argument("--key", help="the log's note verifier key, as published at /ledger/key")
    parser.add_argument("--witness-key", action="append", default=[], help="a trusted witness verifier key")
    parser.add_argument("--min-witnesses", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        with sys.stdin if args.bundle == "-" else open(args.bundle, encoding="utf-8") as handle:
            bundle = json.load(handle)
        log_key = args.key or bundle["verifier_key"]
        if not args.key:
            print("warning: trusting the log key inside the bundle; pass --key to pin it", file=sys.stderr)
        witness_keys = args.witness_key or bundle.get("witness_keys", [])
        result = verify_bundle(bundle, log_key=log_key, witness_keys=witness_keys, min_witnesses=args.min_witnesses)
    except (OSError, ValueError, KeyError, TypeError, VerificationFailed) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result["entry"], ensure_ascii=False, sort_keys=True))
    witnesses = ", ".join(result["witnesses"]) or "none"
    print(f"OK: entry {bundle['index']} is in the signed tree of size {result['tree_size']}; witnesses: {witnesses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
