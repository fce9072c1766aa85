"""RFC 9162 §2.1 written out literally, as the reference the stored-node proofs are checked against."""

import hashlib


def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return subproof(m, leaves[:k], complete) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    if m in (0, len(leaves)):
        return []
    return subproof(m, leaves, True)


def public_leaf(entry_bytes: bytes, salt: bytes) -> bytes:
    """Return the public leaf of an entry as docs/ledger.md writes it out, independently of ledger.leaves."""
    if not salt:
        return b"\x02" + entry_bytes
    assert len(salt) == 32
    return b"\x01" + hashlib.sha256(b"onecard ledger entry commitment v2\x00" + salt + entry_bytes).digest()


def stored_leaves() -> list[bytes]:
    """Return the public leaves of the stored log, oldest first."""
    from ledger.models import Entry

    rows = Entry.objects.order_by("index").values_list("entry_bytes", "salt")
    return [public_leaf(bytes(data), bytes(salt)) for data, salt in rows]
