"""ledger/tools/onecard_mirror.py as an outside organisation runs it: a separate process, over real HTTP."""

import base64
import functools
import hashlib
import json
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
from django.core.management import call_command

from ledger import note
from ledger.api import record_bulk
from ledger.models import Checkpoint
from ledger.tools import tlog, vindex

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

    def publish(self, leaves: list[bytes], index_root: bytes | None = None) -> None:
        """Serve the tree of LEAVES (and only it) with a checkpoint signed by the log key, naming INDEX_ROOT."""
        shutil.rmtree(self.directory / "tile", ignore_errors=True)
        builder = tlog.TileBuilder()
        written = []
        for leaf in leaves:
            builder.append(leaf)
            written += builder.take_full()
        for path, data in written + builder.partial_tiles():
            (self.directory / path).parent.mkdir(parents=True, exist_ok=True)
            (self.directory / path).write_bytes(data)
        body = note.checkpoint_body(ORIGIN, builder.size, builder.root(), index_root)
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


# An accredited mirror given the entries (--entries): it recomputes the subjects' chains and index.


def _mirror_once(log: str, key: str, directory: Path, entries: Path) -> subprocess.CompletedProcess:
    arguments = ["--log", log, "--log-key", key, "--dir", str(directory), "--entries", str(entries), "--once"]
    return subprocess.run(
        [sys.executable, "-I", str(MIRROR), *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def _chained(subjects: list[str]) -> list[bytes]:
    """Return canonical entry bytes about SUBJECTS in log order, each chained to the one before about its subject."""
    heads, entries = {}, []
    for index, subject in enumerate(subjects):
        count, last = heads.get(subject, (0, None))
        entry = {"action": "cards.residents.lookup", "index": index, "subject": subject}
        entries.append(
            json.dumps(entry | {"subject_prev": last, "subject_seq": count + 1}, sort_keys=True, separators=(",", ":"))
        )
        heads[subject] = (count + 1, index)
    return [entry.encode() for entry in entries]


def _heads(entries: list[bytes]) -> dict:
    heads = {}
    for data in entries:
        entry = json.loads(data)
        heads[entry["subject"]] = (heads.get(entry["subject"], (0, None))[0] + 1, entry["index"])
    return heads


def _index_root(heads: dict) -> bytes:
    return vindex.IndexMap(track=False).update({vindex.key_of(tag): head for tag, head in heads.items()})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class EntryLog:
    """A static log of salted entries, and the exported entries an accredited mirror is given."""

    def __init__(self, log: StaticLog, directory: Path):
        self.log, self.directory = log, directory
        directory.mkdir()

    def publish(self, entries: list[bytes], *, heads: dict | None = None, exported: int | None = None) -> None:
        """Serve ENTRIES' leaves under the index root of HEADS (the honest heads if None); export the first EXPORTED."""
        salts = [hashlib.sha256(b"salt %d" % index).digest() for index in range(len(entries))]
        leaves = [tlog.leaf_bytes(data, salt) for data, salt in zip(entries, salts, strict=True)]
        self.log.publish(leaves, index_root=_index_root(_heads(entries) if heads is None else heads))
        for old in self.directory.iterdir():
            old.unlink()
        end = len(entries) if exported is None else exported
        lines = [
            json.dumps(
                {
                    "entry_bytes": base64.b64encode(data).decode(),
                    "index": index,
                    "salt": base64.b64encode(salt).decode(),
                }
            )
            for index, (data, salt) in enumerate(zip(entries[:end], salts[:end], strict=True))
        ]
        (self.directory / f"entries-{0:012d}-{end:012d}.jsonl").write_text("".join(line + "\n" for line in lines))


@pytest.fixture
def entry_log(static_log, tmp_path):
    return EntryLog(static_log, tmp_path / "exported")


SUBJECTS = [f"p1-{n % 7:040x}" for n in range(300)]


def test_an_accredited_mirror_checks_the_signed_index_root_against_the_entries(entry_log, tmp_path):
    entry_log.publish(_chained(SUBJECTS))

    mirrored = _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory)

    assert mirrored.returncode == 0, mirrored.stderr
    assert "index root at tree size 300 matches the 7 subjects' chains" in mirrored.stderr


def test_an_accredited_mirror_checks_the_index_root_once_the_export_reaches_it(entry_log, tmp_path):
    entries = _chained(SUBJECTS)
    entry_log.publish(entries, exported=200)
    waiting = _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory)

    entry_log.publish(entries)
    caught_up = _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory)

    assert waiting.returncode == 0, waiting.stderr
    assert "not checked yet: the held entries reach 200" in waiting.stderr
    assert caught_up.returncode == 0, caught_up.stderr
    assert "index root at tree size 300 matches" in caught_up.stderr


def _omit_last_of(entries: list[bytes], subject: str) -> dict:
    """The heads a log signs when it leaves out SUBJECT's newest entry."""
    return _heads([data for data in entries if json.loads(data)["index"] != _heads(entries)[subject][1]])


def _count_one_less(entries: list[bytes], subject: str) -> dict:
    heads = _heads(entries)
    return heads | {subject: (heads[subject][0] - 1, heads[subject][1])}


@pytest.mark.parametrize("lie", [_omit_last_of, _count_one_less], ids=["omits-one-subjects-entry", "counts-wrong"])
def test_an_accredited_mirror_refuses_an_index_root_that_is_not_the_map_of_the_entries(entry_log, tmp_path, lie):
    honest = _chained(SUBJECTS[:250])
    entry_log.publish(honest)
    assert _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory).returncode == 0
    held = (tmp_path / "copy" / "checkpoint").read_bytes()
    grown = _chained(SUBJECTS)

    entry_log.publish(grown, heads=lie(grown, SUBJECTS[3]))
    refused = _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory)

    assert refused.returncode == 1
    refusals = [line for line in refused.stderr.splitlines() if "REFUSED" in line]
    assert len(refusals) == 1 and "checkpoint 300 signs index root" in refusals[0], refused.stderr
    assert (tmp_path / "copy" / "checkpoint").read_bytes() == held


def test_an_accredited_mirror_refuses_a_broken_subject_chain(entry_log, tmp_path):
    entries = _chained(SUBJECTS)
    # Entry 100 claims to be its subject's first: the log restarted the chain, hiding the entries before it.
    broken = json.loads(entries[100]) | {"subject_prev": None, "subject_seq": 1}
    entries[100] = json.dumps(broken, sort_keys=True, separators=(",", ":")).encode()
    entry_log.publish(entries)

    refused = _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory)

    assert refused.returncode == 1
    assert (
        "REFUSED" in refused.stderr
        and f"broken chain: entry 100 says it is entry 1 of {SUBJECTS[100]}" in refused.stderr
    )
    assert not (tmp_path / "copy" / "checkpoint").exists()


def test_an_accredited_mirror_refuses_exported_entries_that_do_not_open_the_leaves(entry_log, tmp_path):
    entries = _chained(SUBJECTS)
    entry_log.publish(entries)
    exported = next(entry_log.directory.iterdir())
    lines = exported.read_text().splitlines()
    other = json.loads(lines[42]) | {"entry_bytes": base64.b64encode(entries[41]).decode()}
    exported.write_text("\n".join([*lines[:42], json.dumps(other), *lines[43:]]) + "\n")

    refused = _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory)

    assert refused.returncode == 1
    assert "entry 42 and its salt do not open the log's leaf 42" in refused.stderr


def test_an_accredited_mirror_refuses_an_export_that_is_not_utf8_without_a_traceback(entry_log, tmp_path):
    entry_log.publish(_chained(SUBJECTS))
    exported = next(entry_log.directory.iterdir())
    lines = exported.read_bytes().splitlines(keepends=True)
    exported.write_bytes(b"".join([*lines[:7], b"\xff\xfe not utf-8\n", *lines[8:]]))

    refused = _mirror_once(entry_log.log.url, entry_log.log.key, tmp_path / "copy", entry_log.directory)

    assert refused.returncode == 1
    assert "line 8 is not an exported entry" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.django_db(transaction=True)
def test_an_accredited_mirror_recomputes_the_index_of_the_real_log_from_its_export(
    ledger_context, live_server, tmp_path
):
    key = _log_key(live_server)
    _grow(300)
    _grow(150, start=100)
    exported = tmp_path / "exported"
    call_command("ledger", "export-entries", "--dir", str(exported))

    first = _mirror_once(live_server.url + "/log", key, tmp_path / "copy", exported)
    _grow(40, start=290)
    call_command("ledger", "export-entries", "--dir", str(exported))
    second = _mirror_once(live_server.url + "/log", key, tmp_path / "copy", exported)

    assert first.returncode == 0, first.stderr
    size = Checkpoint.objects.order_by("-tree_size").first().tree_size
    assert f"index root at tree size {size - 40} matches the 300 subjects' chains" in first.stderr
    assert second.returncode == 0, second.stderr
    assert f"index root at tree size {size} matches the 330 subjects' chains" in second.stderr
    assert sorted(path.name for path in exported.iterdir()) == [
        f"entries-{0:012d}-{size - 40:012d}.jsonl",
        f"entries-{size - 40:012d}-{size:012d}.jsonl",
    ]
