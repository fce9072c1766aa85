#!/usr/bin/env python3
"""Verify a OneCard ledger proof bundle offline.

Standalone on purpose: it needs only the Python standard library and
``cryptography``, and shares no code with OneCard beyond ``tlog.py`` next to
it (copy both), so a resident or an auditor can read it in full and run it
anywhere.

    python onecard_verify.py bundle.json --key 'onecard.example/ledger+1a2b3c4d+AX...'
        [--witness-key KEY ...] [--min-witnesses N]
    python onecard_verify.py completeness completeness.json --key '…' [--witness-key KEY ...]
        [--min-witnesses N] [--checkpoint NEWER_CHECKPOINT_FILE]

It checks that the entry opens its public leaf (format v2: the salted
commitment; format v1 bundles, whose leaf is the entry itself, still verify),
that the checkpoint in the bundle is signed by the log key, that the leaf is
included in that checkpoint's tree (RFC 9162 §2.1.3.2), and that enough known
witnesses cosigned the checkpoint (C2SP tlog-cosignature/v1).
``completeness`` checks a resident's completeness bundle (``vindex.py``, next
to it): that its entries are every entry about the resident up to the signed
index checkpoint, chained without a gap, as many as the signed index says.
Exit status 0 means every check passed, 1 that one failed.
"""

import argparse
import base64
import json
import os
import sys

if __package__:
    from . import tlog, vindex
else:  # run as a script: tlog.py sits next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tlog
    import vindex

VerificationFailed = tlog.TlogError
leaf_hash = tlog.leaf_hash
verify_inclusion = tlog.verify_inclusion
verify_consistency = tlog.verify_consistency
count_cosignatures = tlog.cosignatures_verify


def check_checkpoint(note: str, log_key: str) -> tuple:
    """Return (origin, size, root) once the log's signature on NOTE verifies."""
    _, origin, size, root = tlog.checkpoint_verify(note, log_key)
    return origin, size, root


def verify_bundle(bundle: dict, *, log_key: str, witness_keys: list, min_witnesses: int) -> dict:
    """Check BUNDLE and return the entry it proves, or raise VerificationFailed."""
    _, size, root = check_checkpoint(bundle["checkpoint"], log_key)
    if size != bundle["tree_size"]:
        raise VerificationFailed(f"the bundle claims tree size {bundle['tree_size']}, the checkpoint says {size}")
    data, leaf = tlog.bundle_leaf(bundle)
    entry = json.loads(data)
    if entry.get("index") != bundle["index"]:
        raise VerificationFailed("the entry bytes name another index than the bundle")
    if "leaf" in bundle and base64.b64decode(bundle["leaf"]) != leaf:
        raise VerificationFailed("the entry and its salt do not open the bundle's leaf")
    path = [base64.b64decode(item) for item in bundle["path"]]
    if not verify_inclusion(bundle["index"], size, leaf_hash(leaf), path, root):
        raise VerificationFailed(f"entry {bundle['index']} is not included in the signed tree of size {size}")
    witnesses = count_cosignatures(bundle["checkpoint"], witness_keys)
    if len(witnesses) < min_witnesses:
        raise VerificationFailed(f"{len(witnesses)} valid cosignatures, {min_witnesses} required")
    return {"entry": entry, "tree_size": size, "witnesses": witnesses}


def completeness_main(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="onecard_verify.py completeness", description="Check that a completeness bundle holds every entry."
    )
    parser.add_argument("bundle", help="the completeness bundle (JSON file, or - for standard input)")
    parser.add_argument("--key", help="the log's note verifier key, as published at /ledger/key")
    parser.add_argument("--witness-key", action="append", default=[], help="a trusted witness verifier key")
    parser.add_argument("--min-witnesses", type=int, default=1)
    parser.add_argument("--checkpoint", help="a newer checkpoint of the log you hold: an older bundle is refused")
    args = parser.parse_args(argv)
    try:
        with sys.stdin if args.bundle == "-" else open(args.bundle, encoding="utf-8") as handle:
            bundle = json.load(handle)
        log_key = args.key or bundle["verifier_key"]
        if not args.key:
            print("warning: trusting the log key inside the bundle; pass --key to pin it", file=sys.stderr)
        witness_keys = args.witness_key or bundle.get("witness_keys", [])
        result = vindex.completeness_verify(
            bundle, log_key=log_key, witness_keys=witness_keys, min_witnesses=args.min_witnesses
        )
        if args.checkpoint:
            with open(args.checkpoint, encoding="utf-8") as handle:
                _, _, held, _ = tlog.checkpoint_verify(handle.read(), log_key)
            if result["tree_size"] < held:
                raise VerificationFailed(
                    f"stale: the bundle's checkpoint ({result['tree_size']} entries) is older than yours ({held})"
                )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, VerificationFailed) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    for item in result["sealed"]:
        print(f"sealed: entry {item['index']}, to be disclosed on {item['unseal_on']}")
    witnesses = ", ".join(result["witnesses"]) or "none"
    print(
        f"OK: all {result['count']} entries about the subject up to checkpoint {result['tree_size']}, "
        f"{len(result['sealed'])} of them sealed; witnesses: {witnesses}"
    )
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["completeness"]:
        return completeness_main(argv[1:])
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
