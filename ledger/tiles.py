"""The log as C2SP tlog-tiles: written after each sequencer commit, served under ``/log/`` without the database.

Tiles are derived data. The sequencer's checkpoints stay the source of truth:
after each batch commits, ``tiles_publish`` reads the new entries, builds the
hash tiles and entry bundles of public leaves they complete
(``ledger.leaves``; ``ledger/tools/tlog.py``, the same code outside clients
run), checks that the tiles hash to every signed
checkpoint they pass, and writes them to the ``ledger_tiles`` storage. A small
state object there (``tiles-state.json``: tree size and root) says how far the
tiles go, so a crash or a storage outage only delays them: the next run
catches up. Every object is written whole (an atomic rename on the local
filesystem, a single PUT on an object store), and the same path always gets
the same bytes, so two writers racing never corrupt a tile.
"""

import base64
import json
import logging
import os
import tempfile
import threading

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.utils import timezone

from ledger.leaves import leaf_bytes
from ledger.models import Alert, Checkpoint, Entry
from ledger.tools import tlog

logger = logging.getLogger(__name__)

STORAGE_ALIAS = "ledger_tiles"
STATE_NAME = "tiles-state.json"
# The newest checkpoint a witness cosigned, kept beside the tiles: outside the log's database.
WITNESSED_NAME = "witnessed-state.json"
# Entries read from the database per query while building tiles.
CHUNK = 16 * tlog.TILE_WIDTH
# How often a long build records its progress in the state object, in entries.
STATE_EVERY = 256 * tlog.TILE_WIDTH

FULL_TILE_CACHE = "public, max-age=31536000, immutable"
# A partial tile's bytes never change either, but the full tile supersedes it: let caches drop it.
PARTIAL_TILE_CACHE = "public, max-age=3600"


class TilesMismatch(Exception):
    """The entries in the database do not hash to a signed checkpoint, so no tile is published for it."""


class TileFileSystemStorage(FileSystemStorage):
    """Local tile storage: each object is written to a temporary file and renamed into place, overwriting."""

    def get_available_name(self, name, max_length=None):
        return name

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
            os.chmod(temporary, 0o644)
            os.replace(temporary, full_path)
        except BaseException:
            os.unlink(temporary)
            raise
        return name


def tiles_storage():
    """Return the storage backend that holds the tiles."""
    return storages[STORAGE_ALIAS]


def tile_read(*, path: str) -> bytes | None:
    """Return the stored bytes of the tile or entry bundle at PATH (a canonical tlog-tiles path), or None."""
    try:
        with tiles_storage().open(path, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _state_read(name: str) -> dict | None:
    """Return the state object NAME if it is this log's (same origin), else None."""
    try:
        with tiles_storage().open(name, "rb") as handle:
            state = json.loads(handle.read())
        if state.get("origin") != settings.ONECARD_LEDGER_ORIGIN:
            return None
        return {"tree_size": int(state["tree_size"]), "root": base64.b64decode(state["root"])}
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return None
    except OSError:
        # An outage of the tile storage delays the tiles and must not stop the log: what it holds
        # is checked again on the next run; the witnesses still refuse any fork meanwhile.
        logger.warning("tiles: the state object %s cannot be read", name, exc_info=True)
        return None


def _state_save(storage, name: str, size: int, root: bytes) -> None:
    state = {"origin": settings.ONECARD_LEDGER_ORIGIN, "tree_size": size, "root": base64.b64encode(root).decode()}
    storage.save(name, ContentFile(json.dumps(state).encode()))


def tiles_state() -> tuple[int, bytes]:
    """Return (tree size, root) up to which this log's tiles are written; (0, empty root) before any."""
    state = _state_read(STATE_NAME)
    return (state["tree_size"], state["root"]) if state else (0, tlog.EMPTY_ROOT)


def _state_write(storage, builder: tlog.TileBuilder) -> None:
    _state_save(storage, STATE_NAME, builder.size, builder.root())


def witnessed_record(*, tree_size: int, root: bytes) -> None:
    """Remember, outside the database, that a witness cosigned the checkpoint of TREE_SIZE and ROOT."""
    held = _state_read(WITNESSED_NAME)
    if held is None or held["tree_size"] < tree_size:
        _state_save(tiles_storage(), WITNESSED_NAME, tree_size, root)


def checkpoints_held_outside() -> list[tuple[str, int, bytes]]:
    """Return (who holds it, size, root) of the newest checkpoints of this log known outside the database.

    The tile storage's state (what the tiles published) and the newest
    checkpoint a witness cosigned (``witnessed_record``). The sequencer
    signs nothing that does not extend them (docs/ledger.md, trust model).
    """
    held = []
    for source, name in (
        ("the tile storage", STATE_NAME),
        ("the witnesses' record in the tile storage", WITNESSED_NAME),
    ):
        state = _state_read(name)
        if state is not None and state["tree_size"]:
            held.append((source, state["tree_size"], state["root"]))
    return held


def tiles_clear() -> None:
    """Delete every tile, bundle and state object of another log (another origin, or format v1) from the storage."""
    storage = tiles_storage()

    def walk(directory: str) -> None:
        try:
            directories, files = storage.listdir(directory)
        except FileNotFoundError:
            return
        for name in files:
            storage.delete(f"{directory}/{name}" if directory else name)
        for name in directories:
            walk(f"{directory}/{name}" if directory else name)

    walk("tile")
    for name in (STATE_NAME, WITNESSED_NAME):
        storage.delete(name)


def _other_log_in_storage() -> bool:
    """Return whether the stored state objects belong to another log than this one (another or no origin)."""
    for name in (STATE_NAME, WITNESSED_NAME):
        try:
            with tiles_storage().open(name, "rb") as handle:
                state = json.loads(handle.read())
        except FileNotFoundError:
            continue
        except ValueError:
            return True
        if not isinstance(state, dict) or state.get("origin") != settings.ONECARD_LEDGER_ORIGIN:
            return True
    return False


# The builder after the last publication by this process: reused when the
# stored state still names its size and root, so a batch reads only its own entries.
_last_builder: tlog.TileBuilder | None = None
# One publication at a time per process: threads (runserver, eager tasks) share _last_builder.
# Processes need no lock: they share only the storage, where a path always gets the same bytes.
_publishing = threading.RLock()


# Leaves the sequencer has just committed, offered so that publishing them does not read and hash
# them again: {first index: (leaf bytes, leaf hashes)}. Only committed batches are offered (on
# commit), and what is built from them still has to hash to the signed checkpoint.
_offered: dict[int, tuple[list, list]] = {}
OFFERED_LIMIT = 500_000


def tiles_offer(first: int, leaves: list, hashes: list) -> None:
    """Offer the leaves (and their hashes) of a committed batch that starts at index FIRST."""
    with _publishing:
        if sum(len(offer[0]) for offer in _offered.values()) + len(leaves) > OFFERED_LIMIT:
            _offered.clear()
        _offered[first] = (leaves, hashes)


def _leaves_read(first: int, end: int) -> tuple[list, list | None]:
    """Return the leaf bytes of entries FIRST to END-1 (and their hashes when offered), offered or from the table."""
    for stale in [start for start in _offered if start < first]:
        del _offered[stale]
    offer = _offered.pop(first, None)
    if offer is not None:
        leaves, hashes = offer
        if len(leaves) > end - first:
            _offered[end] = (leaves[end - first :], hashes[end - first :])
            leaves, hashes = leaves[: end - first], hashes[: end - first]
        return leaves, hashes
    rows = Entry.objects.filter(index__gte=first, index__lt=end).order_by("index")
    rows = list(rows.values_list("index", "entry_bytes", "salt"))
    if not rows or rows[0][0] != first or rows[-1][0] != first + len(rows) - 1:
        raise TilesMismatch(f"entries are missing from the log after index {first - 1}")
    return [leaf_bytes(entry_bytes=bytes(data), salt=bytes(salt)) for _, data, salt in rows], None


def _builder_load(storage, size: int, root: bytes) -> tlog.TileBuilder | None:
    """Return the builder at SIZE from the stored partial tiles of that size, or None if any is missing."""
    if _last_builder is not None and _last_builder.size == size and _last_builder.root() == root:
        return _last_builder
    if size == 0:
        return tlog.TileBuilder()
    try:
        leaves = []
        if size % tlog.TILE_WIDTH:
            with storage.open(tlog.tile_path("entries", size // tlog.TILE_WIDTH, size % tlog.TILE_WIDTH)) as handle:
                leaves = tlog.entries_bundle_parse(handle.read())
        partial = {0: [tlog.leaf_hash(leaf) for leaf in leaves]}
        for level in range(1, tlog.tree_levels(size)):
            count = size // tlog.TILE_WIDTH**level
            if count % tlog.TILE_WIDTH:
                with storage.open(tlog.tile_path(level, count // tlog.TILE_WIDTH, count % tlog.TILE_WIDTH)) as handle:
                    partial[level] = tlog.hashes_split(handle.read())
        builder = tlog.TileBuilder.resume(size, leaves, partial)
    except (FileNotFoundError, tlog.TlogError):
        return None
    return builder if builder.root() == root else None


def _superseded(path: str, target: int) -> bool:
    """Return whether the partial tile at PATH is covered by a full tile in the tree of TARGET leaves."""
    level, index, _ = tlog.tile_path_parse(path)
    level = 0 if level == "entries" else level
    return target // tlog.TILE_WIDTH**level >= (index + 1) * tlog.TILE_WIDTH


def tiles_publish(*, rebuild: bool = False, progress=None) -> int:
    """Write the tiles of every signed checkpoint not yet tiled; return the tree size the tiles now cover.

    With REBUILD, start again from the first entry and write every tile
    (the same bytes for the tiles already there). PROGRESS, if given, is
    called with each number of entries processed.
    """
    with _publishing:
        return _publish(rebuild=rebuild, progress=progress)


def _publish(*, rebuild: bool, progress) -> int:
    global _last_builder
    storage = tiles_storage()
    if _other_log_in_storage():
        # Another log's tiles (a previous origin, or the format v1 log whose entry bundles held the
        # entries themselves): none of it may stay public under this log's paths.
        logger.warning("tiles: the tile storage holds another log's tiles; deleting them")
        tiles_clear()
        _last_builder = None
    size, root = (0, tlog.EMPTY_ROOT) if rebuild else tiles_state()
    if size and not Checkpoint.objects.filter(tree_size=size, root_hash=root).exists():
        # A new database next to old tiles (a reset development log): the tiles are another log's.
        logger.warning("tiles: the stored tiles end at size %s, which no checkpoint of this log has; rewriting", size)
        return _publish(rebuild=True, progress=progress)
    builder = _builder_load(storage, size, root)
    if builder is None:
        logger.warning("tiles: the stored tiles at size %s are incomplete; rebuilding from the first entry", size)
        return _publish(rebuild=True, progress=progress)
    checkpoints = Checkpoint.objects.filter(tree_size__gt=builder.size).order_by("tree_size")
    checkpoints = list(checkpoints.values_list("tree_size", "root_hash"))
    if not checkpoints:
        return builder.size
    target = checkpoints[-1][0]
    written_at = builder.size

    def put(path: str, data: bytes) -> None:
        storage.save(path, ContentFile(data))

    pending_checkpoints = iter(checkpoints)
    next_size, next_root = next(pending_checkpoints)
    while builder.size < target:
        first = builder.size
        leaves, hashes = _leaves_read(first, min(first + CHUNK, target))
        count = len(leaves)
        while leaves:
            take = min(len(leaves), next_size - builder.size)
            builder.extend(leaves[:take], hashes[:take] if hashes is not None else None)
            leaves = leaves[take:]
            hashes = hashes[take:] if hashes is not None else None
            if builder.size < next_size:
                continue
            if builder.root() != bytes(next_root):
                _last_builder = None
                _alert(f"the entries do not hash to the signed checkpoint of size {next_size}; no tile published")
                raise TilesMismatch(f"the entries do not hash to the signed checkpoint of size {next_size}")
            for path, tile in builder.take_full():
                put(path, tile)
            for path, tile in builder.partial_tiles():
                if builder.size == target or not _superseded(path, target):
                    put(path, tile)
            if builder.size == target or builder.size - written_at >= STATE_EVERY:
                _state_write(storage, builder)
                written_at = builder.size
            next_size, next_root = next(pending_checkpoints, (target + 1, None))
        if progress is not None:
            progress(count)
    _last_builder = builder
    return builder.size


def tiles_publish_after_commit() -> None:
    """Publish the tiles of the checkpoints just committed; a failure is logged, and the next run catches up."""
    try:
        tiles_publish()
    except (TilesMismatch, tlog.TlogError):
        logger.exception("tiles: not published")
    except OSError:
        logger.exception("tiles: the tile storage failed; the next sequencer run catches up")


def _alert(message: str) -> None:
    Alert.objects.create(created_at=timezone.now(), message=f"tiles: {message}")
