"""ledger/tools/onecard_mirror.py as an outside organisation runs it: a separate process, over real HTTP."""

import functools
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import note
from ledger.api import record_bulk
from ledger.models import Checkpoint
from ledger.tools import tlog

MIRROR = Path(__file__).resolve().parents[2] / "ledger" / "tools" / "onecard_mirror.py"
ORIGIN = "log.example/test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mirror:
    """One onecard_mirror.py process, run as its operator would: no project on its path."""

    def __init__(self, *, log: str, key: str, directory: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = directory.parent / f"{directory.name}-{self.port}.log"
        arguments = ["--log", log, "--log-key", key, "--dir", str(directory), "--interval", "0.1"]
        with open(self.log_file, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-I", str(MIRROR), *arguments, "--listen", f"127.0.0.1:{self.port}"],
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def size(self) -> int | None:
        try:
            with urllib.request.urlopen(self.url + "/checkpoint", timeout=5) as response:
                return int(response.read().decode().split("\n")[1])
        except OSError:
            return None

    def wait_for_size(self, size: int) -> None:
        deadline = time.monotonic() + 90
        while self.size() != size:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"the mirror holds {self.size()}, not {size}:\n{self.output()}"
            time.sleep(0.1)

    def output(self) -> str:
        return self.log_file.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def mirrors():
    started = []

    def start(**arguments):
        started.append(Mirror(**arguments))
        return started[-1]

    yield start
    for mirror in started:
        mirror.stop()


def _grow(count: int, start: int = 0) -> None:
    record_bulk(action="cards.residents.lookup", subjects=[f"resident:{n}" for n in range(start, start + count)])


def _log_key(live_server) -> str:
    return tlog.http_fetcher(live_server.url + "/ledger")("key").decode().strip()


@pytest.mark.django_db(transaction=True)
def test_a_mirror_follows_the_log_and_serves_the_same_root(ledger_context, live_server, mirrors, tmp_path):
    key = _log_key(live_server)
    _grow(300)
    mirror = mirrors(log=live_server.url + "/log", key=key, directory=tmp_path / "copy")
    mirror.wait_for_size(300)

    _grow(500, start=300)
    mirror.wait_for_size(800)

    _, size, root, _ = tlog.log_follow(tlog.http_fetcher(mirror.url), key)
    assert (size, root) == (800, bytes(Checkpoint.objects.get(tree_size=800).root_hash))
    assert tlog.http_fetcher(mirror.url)("tile/0/000") == tlog.http_fetcher(live_server.url + "/log")("tile/0/000")
    with urllib.request.urlopen(urllib.request.Request(mirror.url + "/tile/0/000", method="HEAD")) as response:
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.read() == b""


@pytest.mark.django_db(transaction=True)
def test_a_mirror_catches_up_after_downtime(ledger_context, live_server, mirrors, tmp_path):
    key = _log_key(live_server)
    _grow(100)
    first = mirrors(log=live_server.url + "/log", key=key, directory=tmp_path / "copy")
    first.wait_for_size(100)
    first.stop()

    _grow(1000, start=100)
    again = mirrors(log=live_server.url + "/log", key=key, directory=tmp_path / "copy")
    again.wait_for_size(1100)

    _, size, root, _ = tlog.log_follow(tlog.http_fetcher(again.url), key)
    assert (size, root) == (1100, bytes(Checkpoint.objects.get(tree_size=1100).root_hash))


class StaticLog:
    """A tlog-tiles log served as static files by a plain HTTP server, so a test can make it fork or shrink."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.private_key = Ed25519PrivateKey.generate()
        self.key = note.verifier_key(ORIGIN, note.public_bytes(self.private_key))
        directory.mkdir()
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *args: None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, leaves: list[bytes]) -> None:
        """Serve the tree of LEAVES (and only it) with a checkpoint signed by the log key."""
        shutil.rmtree(self.directory / "tile", ignore_errors=True)
        builder = tlog.TileBuilder()
        written = []
        for leaf in leaves:
            builder.append(leaf)
            written += builder.take_full()
        for path, data in written + builder.partial_tiles():
            (self.directory / path).parent.mkdir(parents=True, exist_ok=True)
            (self.directory / path).write_bytes(data)
        body = note.checkpoint_body(ORIGIN, builder.size, builder.root())
        (self.directory / "checkpoint").write_text(note.note_sign(body, ORIGIN, self.private_key))

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def static_log(tmp_path):
    log = StaticLog(tmp_path / "log")
    yield log
    log.close()


def _leaves(count: int, tag: bytes = b"") -> list[bytes]:
    return [b"entry %d" % n + (tag if n == 5 else b"") for n in range(count)]


@pytest.mark.parametrize(
    ("served", "reason"),
    [
        (_leaves(400, tag=b" rewritten"), "do not hash to its signed root"),
        (_leaves(300, tag=b" rewritten"), "two different roots for tree size 300"),
        (_leaves(299), "shrank from 300 to 299"),
    ],
    ids=["forked-and-grown", "forked-same-size", "shrank"],
)
def test_a_mirror_refuses_a_log_that_forked_or_shrank_and_keeps_its_copy(static_log, mirrors, tmp_path, served, reason):
    static_log.publish(_leaves(300))
    mirror = mirrors(log=static_log.url, key=static_log.key, directory=tmp_path / "copy")
    mirror.wait_for_size(300)
    held = (tmp_path / "copy" / "checkpoint").read_bytes()

    static_log.publish(served)

    assert mirror.process.wait(timeout=60) == 1
    refusals = [line for line in mirror.output().splitlines() if "REFUSED" in line]
    assert len(refusals) == 1 and reason in refusals[0], mirror.output()
    assert (tmp_path / "copy" / "checkpoint").read_bytes() == held


def test_a_mirror_refuses_a_checkpoint_not_signed_by_the_log_key(static_log, mirrors, tmp_path):
    static_log.publish(_leaves(3))
    stranger = StaticLog(tmp_path / "stranger")
    stranger.close()

    mirror = mirrors(log=static_log.url, key=stranger.key, directory=tmp_path / "copy")

    assert mirror.process.wait(timeout=60) == 1
    assert "REFUSED" in mirror.output() and "not signed by the log key" in mirror.output()
    assert not (tmp_path / "copy" / "checkpoint").exists()
