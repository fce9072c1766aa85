#!/usr/bin/env python3
"""Mirror a OneCard ledger: follow its C2SP tlog-tiles, check every checkpoint, keep and serve a full copy.

Standalone on purpose: only the Python standard library and ``cryptography``,
no code shared with OneCard beyond ``tlog.py`` next to it (copy both; and
``vindex.py`` too for ``--entries``). An outside organisation runs it as a service:

    python onecard_mirror.py --log https://onecard.example/log --log-key 'onecard.example/ledger+…'
        --dir /var/lib/onecard-mirror [--listen 0.0.0.0:8080] [--interval 10] [--entries DIR]

Each round fetches the log's checkpoint, checks the log's signature on it,
reads the new entries from the entry bundles and checks that they extend the
copy held on disk to exactly the signed root (and that the log's hash tiles
agree). Only then are the new tiles, and then the checkpoint, written to disk.
A log that shrank, forked, or serves tiles that do not hash to its signed root
is refused: a line starting with REFUSED is logged and the mirror exits with
status 1, keeping the copy it held. An unreachable log is retried each round,
so the mirror catches up after its own or the log's downtime.

An accredited mirror given the entries themselves (``--entries DIR``: the
files ``manage.py ledger export-entries`` writes, each entry with its salt)
also checks each one against its leaf in the log, recomputes every subject's
chain and the subjects' index from them, and refuses a log whose index
checkpoint signs another index root, or whose entries break a chain.

With ``--listen`` the copy is served as tlog-tiles itself: ``/checkpoint`` and
``/tile/...``, so clients can read the log from the mirror instead.
"""

import argparse
import base64
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if __package__:
    from . import tlog
else:  # run as a script: tlog.py (and, for --entries, vindex.py) sit next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tlog

logger = logging.getLogger("onecard-mirror")


EXPORT_NAME = re.compile(r"entries-(\d+)-(\d+)\.jsonl\Z")


class IndexMismatch(tlog.TlogError):
    """The entries the mirror holds give another subjects' index than the log signed, or break a chain."""


class HeldEntries:
    """The entries given to an accredited mirror, checked against the log's leaves and recomputed into the index.

    DIRECTORY holds JSON Lines files ``entries-<first>-<end>.jsonl`` (END
    exclusive), one entry a line: ``{"index", "entry_bytes", "salt"}``, bytes in
    base64, as ``manage.py ledger export-entries`` writes them. The chains and the
    map are kept in memory and recomputed from the first entry when the mirror
    starts.
    """

    def __init__(self, directory: str) -> None:
        # Only a mirror given entries needs the index code: a plain mirror runs with tlog.py alone.
        if __package__:
            from . import vindex
        else:
            import vindex
        self.vindex = vindex
        self.directory = os.path.abspath(directory)
        self.chains = vindex.SubjectChains()
        self.checked: tuple | None = None  # (tree size, index root) last found to match
        self.waiting: int | None = None  # the tree size last reported as not yet covered

    def _files(self) -> list:
        found = []
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []  # nothing exported yet
        for name in names:
            match = EXPORT_NAME.match(name)
            if match:
                found.append((int(match[1]), int(match[2]), os.path.join(self.directory, name)))
        return sorted(found)

    def _read(self, start: int, stop: int):
        """Yield (index, entry bytes, salt) from START on, in order, below STOP, until the files have a gap."""
        position = start
        if start >= stop:
            return
        for first, end, path in self._files():
            if end <= position or first > position:
                continue
            with open(path, "rb") as lines:
                for number, line in enumerate(lines, start=1):
                    try:
                        item = json.loads(line.decode("utf-8"))
                        index = item["index"]
                        data = base64.b64decode(item["entry_bytes"], validate=True)
                        salt = base64.b64decode(item["salt"], validate=True)
                        if type(index) is not int:
                            raise TypeError(index)
                    except (ValueError, KeyError, TypeError):
                        raise IndexMismatch(f"{path} line {number} is not an exported entry") from None
                    if index < position:
                        continue
                    if index != position or index >= stop:
                        break
                    yield index, data, salt
                    position += 1
            if position >= stop:
                return

    def check(self, body: str, size: int, bundle) -> None:
        """Take the held entries up to SIZE and check the checkpoint BODY's index root; raise IndexMismatch.

        BUNDLE(n) returns the leaves of the log's entry bundle N at this size.
        """
        leaves, leaves_of = None, None
        for index, data, salt in self._read(self.chains.size, size):
            if leaves_of != index // tlog.TILE_WIDTH:
                leaves_of = index // tlog.TILE_WIDTH
                leaves = bundle(leaves_of)
            if not salt and index != 0:
                raise IndexMismatch(f"entry {index} is unsalted: only the log-start leaf 0 may be")
            if tlog.leaf_bytes(data, salt) != leaves[index % tlog.TILE_WIDTH]:
                raise IndexMismatch(f"entry {index} and its salt do not open the log's leaf {index}")
            try:
                self.chains.append(index, data)
            except self.vindex.CompletenessError as error:
                raise IndexMismatch(str(error)) from None
        signed = self.vindex.index_root_of(body)
        if signed is None or self.checked == (size, signed):
            return  # a checkpoint without an index line claims no count; the next index checkpoint covers it
        if self.chains.size < size:
            if self.waiting != size:
                logger.info(
                    "the index root at tree size %s is not checked yet: the held entries reach %s",
                    size,
                    self.chains.size,
                )
                self.waiting = size
            return
        computed = self.chains.root()
        if computed != signed:
            raise IndexMismatch(
                f"checkpoint {size} signs index root {base64.b64encode(signed).decode()}, but the subject chains"
                f" of its {size} entries ({len(self.chains.heads)} subjects) give"
                f" {base64.b64encode(computed).decode()}: the log signed a wrong count or left out an entry"
            )
        self.checked = (size, signed)
        logger.info("index root at tree size %s matches the %s subjects' chains", size, len(self.chains.heads))


class MirrorCopy:
    """The copy held on disk: the tiles under DIRECTORY/tile/ and the newest checked checkpoint."""

    def __init__(self, directory: str, log_key: str, entries: str | None = None) -> None:
        self.directory = os.path.abspath(directory)
        self.log_key = log_key
        os.makedirs(self.directory, exist_ok=True)
        self.builder = self._load()
        self.entries = HeldEntries(entries) if entries else None

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, *name.split("/"))

    def read(self, name: str) -> bytes:
        with open(self._path(name), "rb") as handle:
            return handle.read()

    def write(self, name: str, data: bytes) -> None:
        """Write NAME whole: a reader sees the old bytes or the new, never a part."""
        path = self._path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)

    def _load(self):
        """Return the tile builder of the held copy, checked against the held checkpoint."""
        try:
            note = self.read("checkpoint").decode("utf-8")
        except FileNotFoundError:
            return tlog.TileBuilder()
        _, _, size, root = tlog.checkpoint_verify(note, self.log_key)
        leaves = []
        if size % tlog.TILE_WIDTH:
            leaves = tlog.entries_bundle_parse(
                self.read(tlog.tile_path("entries", size // tlog.TILE_WIDTH, size % tlog.TILE_WIDTH))
            )
        partial = {0: [tlog.leaf_hash(leaf) for leaf in leaves]}
        for level in range(1, tlog.tree_levels(size)):
            count = size // tlog.TILE_WIDTH**level
            if count % tlog.TILE_WIDTH:
                name = tlog.tile_path(level, count // tlog.TILE_WIDTH, count % tlog.TILE_WIDTH)
                partial[level] = tlog.hashes_split(self.read(name))
        builder = tlog.TileBuilder.resume(size, leaves, partial)
        if builder.root() != root:
            raise tlog.TlogError(f"the copy in {self.directory} does not hash to its own checkpoint")
        return builder

    def follow(self, fetch) -> bool:
        """Take the log's newest checkpoint if it extends the copy; return whether the copy grew."""
        before = self.builder.size
        new_tiles = {}
        note, size, _, builder = tlog.log_follow(fetch, self.log_key, self.builder, on_tile=new_tiles.__setitem__)
        if self.entries is not None:
            body = tlog.note_split(note)[0]
            self.entries.check(body, size, lambda n: self._bundle(n, size, new_tiles))
        for path, data in new_tiles.items():
            self.write(path, data)
        # Same tree, maybe with more cosignatures: keep the newer note too.
        if size > before or note.encode("utf-8") != self._held_note():
            self.write("checkpoint", note.encode("utf-8"))
        self.builder = builder
        return size > before

    def _bundle(self, number: int, size: int, new_tiles: dict) -> list:
        """Return the leaves of entry bundle NUMBER in the tree of SIZE, from NEW_TILES or the copy."""
        width = min(tlog.TILE_WIDTH, size - number * tlog.TILE_WIDTH)
        path = tlog.tile_path("entries", number, width)
        data = new_tiles.get(path)
        return tlog.entries_bundle_parse(data if data is not None else self.read(path))

    def _held_note(self) -> bytes:
        try:
            return self.read("checkpoint")
        except FileNotFoundError:
            return b""


def _handler(copy: MirrorCopy):
    class Handler(BaseHTTPRequestHandler):
        server_version = "onecard-mirror"

        def do_HEAD(self):
            self.do_GET(body=False)

        def do_GET(self, body=True):
            self.body = body
            name = self.path.split("?", 1)[0].lstrip("/")
            if name == "checkpoint":
                self._send(name, "text/plain; charset=utf-8", "no-store")
                return
            try:
                _, _, width = tlog.tile_path_parse(name)
            except tlog.TlogError:
                self._missing()
                return
            cache = "public, max-age=31536000, immutable" if width == tlog.TILE_WIDTH else "public, max-age=3600"
            self._send(name, "application/octet-stream", cache)

        def _send(self, name, content_type, cache):
            try:
                data = copy.read(name)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                self._missing()
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", cache)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            if self.body:
                self.wfile.write(data)

        def _missing(self):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.body:
                self.wfile.write(body)

        def log_message(self, format, *args):
            logger.debug("%s " + format, self.address_string(), *args)

    return Handler


def serve(copy: MirrorCopy, listen: str) -> ThreadingHTTPServer:
    """Start serving COPY as tlog-tiles on LISTEN (host:port) in a background thread."""
    host, _, port = listen.rpartition(":")
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), _handler(copy))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    logger.info("serving the copy on http://%s:%s/", *server.server_address[:2])
    return server


def run(
    *,
    log: str,
    log_key: str,
    directory: str,
    listen: str | None,
    interval: float,
    once: bool,
    entries: str | None = None,
) -> int:
    """Follow LOG until refused (return 1), or for one round with ONCE (0 held, 1 refused, 2 unreachable)."""
    try:
        copy = MirrorCopy(directory, log_key, entries)
    except (OSError, tlog.TlogError) as error:
        logger.error("REFUSED: the copy held in %s does not check out: %s", directory, error)
        return 1
    logger.info("holding tree size %s", copy.builder.size)
    server = serve(copy, listen) if listen else None
    fetch = tlog.http_fetcher(log)
    try:
        while True:
            try:
                if copy.follow(fetch):
                    logger.info("holding tree size %s root %s", copy.builder.size, copy.builder.root().hex())
            except tlog.TlogError as error:
                logger.error("REFUSED: %s: %s", log, error)
                return 1
            except OSError as error:
                logger.warning("the log is unreachable, retrying: %s", error)
                if once:
                    return 2
            if once:
                return 0
            time.sleep(interval)
    finally:
        if server is not None:
            server.shutdown()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Mirror a OneCard ledger from its tlog-tiles.")
    parser.add_argument("--log", required=True, help="the log's tlog-tiles prefix, e.g. https://onecard.example/log")
    parser.add_argument("--log-key", required=True, help="the log's note verifier key, as published at /ledger/key")
    parser.add_argument("--dir", required=True, help="where the copy is kept")
    parser.add_argument("--listen", help="serve the copy as tlog-tiles on HOST:PORT")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between rounds")
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    parser.add_argument(
        "--entries",
        metavar="DIR",
        help="exported entries with their salts (manage.py ledger export-entries): check the subjects' index",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s onecard-mirror %(levelname)s %(message)s")
    return run(
        log=args.log,
        log_key=args.log_key,
        directory=args.dir,
        listen=args.listen,
        interval=args.interval,
        once=args.once,
        entries=args.entries,
    )


if __name__ == "__main__":
    sys.exit(main())
