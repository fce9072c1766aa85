"""The entries, with their salts, exported as files for an accredited mirror (ledger/tools/onecard_mirror.py).

The public tiles hold only commitments; an accredited holder that also gets the
entries can open each leaf and recompute the subjects' chains and index from
them (docs/ledger.md, "Running a mirror"). The files carry what the auditor API
serves for one entry, for a range of entries at a time.
"""

import base64
import json
import logging
import os
import re
import tempfile

from ledger.models import Checkpoint, Entry

EXPORT_NAME = re.compile(r"entries-(\d+)-(\d+)\.jsonl\Z")
EXPORT_FILE_ENTRIES = 100_000

logger = logging.getLogger("ledger.exports")


def _exported_end(directory: str) -> int:
    ends = [int(match[2]) for name in os.listdir(directory) if (match := EXPORT_NAME.match(name))]
    return max(ends, default=0)


def _write_whole(path: str, lines: list[bytes]) -> None:
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.writelines(lines)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def entries_export(*, directory: str) -> tuple[int, int]:
    """Write the entries after those already in DIRECTORY, up to the newest checkpoint; return (first, end).

    Each file is ``entries-<first>-<end>.jsonl`` (END exclusive, both zero-padded to 12 digits), at most
    100,000 entries, one JSON object a line: ``{"entry_bytes", "index", "salt"}``, bytes in base64. A file
    appears whole or not at all.
    """
    os.makedirs(directory, exist_ok=True)
    start = _exported_end(directory)
    end = Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True).first() or 0
    rows = (
        Entry.objects.filter(index__gte=start, index__lt=end)
        .order_by("index")
        .values_list("index", "entry_bytes", "salt")
        .iterator(chunk_size=5000)
    )
    lines, first = [], start
    for index, data, salt in rows:
        item = {
            "entry_bytes": base64.b64encode(bytes(data)).decode(),
            "index": index,
            "salt": base64.b64encode(bytes(salt)).decode(),
        }
        lines.append(json.dumps(item, sort_keys=True, separators=(",", ":")).encode() + b"\n")
        if len(lines) == EXPORT_FILE_ENTRIES:
            _write_whole(os.path.join(directory, f"entries-{first:012d}-{index + 1:012d}.jsonl"), lines)
            lines, first = [], index + 1
    if lines:
        _write_whole(os.path.join(directory, f"entries-{first:012d}-{end:012d}.jsonl"), lines)
    if end > start:
        # The operators' log keeps a trace of every export: the files open every exported leaf.
        logger.warning("ledger: entries %s to %s and their salts exported to %s", start, end - 1, directory)
    return start, end
