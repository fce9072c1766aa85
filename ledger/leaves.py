"""The public leaf of each entry (log format v2): the one place the ledger computes it.

A public leaf reveals nothing about the access it stands for: it is a version
byte and a SHA-256 commitment to the entry's canonical bytes under 32 random
bytes of salt, stored with the entry and served only with it. The function
itself lives in ``ledger/tools/tlog.py``, so the standalone verifier, witness
and mirror compute exactly the same bytes; ``static/js/verify.js`` mirrors it.
The exact bytes are in docs/ledger.md, "Leaves".
"""

import json
import secrets

from ledger.tools import tlog

LOG_FORMAT_VERSION = 2
SALT_SIZE = tlog.SALT_SIZE


def leaf_bytes(*, entry_bytes: bytes, salt: bytes) -> bytes:
    """Return the public leaf of the entry ENTRY_BYTES whose commitment is opened by SALT."""
    return tlog.leaf_bytes(entry_bytes, salt)


def salts_new(count: int) -> list[bytes]:
    """Return COUNT fresh random salts."""
    data = secrets.token_bytes(SALT_SIZE * count)
    return [data[i : i + SALT_SIZE] for i in range(0, len(data), SALT_SIZE)]


def log_start_bytes(*, previous_checkpoint: str) -> bytes:
    """Return the canonical bytes of leaf 0 of a log that continues a sealed one: its final signed checkpoint."""
    return json.dumps(
        {"index": 0, "previous_checkpoint": previous_checkpoint}, sort_keys=True, separators=(",", ":")
    ).encode()
