"""The production shape of `make up`: gunicorn, a worker and beat, two witness processes and a mirror process.

Checkpoints are published only once both witnesses (processes with their own
keys and state, not the log) cosigned them, and the mirror holds the tree the
log publishes.
"""

import base64
import subprocess
import sys
import time

from ledger.tools import tlog
from tests.reliability.conftest import neighbour_redis_url, redis_flush, stack_database_name, wait_for
from tests.support.stack import ROOT, Stack, free_port, http, throwaway_database

WITNESS = ROOT / "ledger" / "tools" / "onecard_witness.py"
MIRROR = ROOT / "ledger" / "tools" / "onecard_mirror.py"
GROW = """
from ledger.api import Actor, access_context, record_bulk
with access_context(actor=Actor(type="system", id="test"), role="system", channel="command", purpose="registration"):
    record_bulk(action="cards.residents.lookup", subjects=[f"resident:{n}" for n in range(700)])
"""


def _published(url: str) -> tuple[str, int, bytes] | None:
    status, _, body = http("GET", url)
    if status != 200:
        return None
    note = body.decode()
    lines = note.split("\n")
    return note, int(lines[1]), lines[2].encode()


def test_make_ups_shape_publishes_only_what_both_witness_processes_cosigned_and_a_mirror_holds_it(services, tmp_path):
    database_url, redis_url = services
    redis_url = neighbour_redis_url(redis_url)
    redis_flush(redis_url)
    policy = tmp_path / "policy"
    with (
        throwaway_database(stack_database_name("witnessed")) as database,
        Stack(
            database_url=database, redis_url=redis_url, extra_env={"ONECARD_LEDGER_WITNESS_POLICY_FILE": str(policy)}
        ) as stack,
    ):
        policy.write_text("quorum none\n")
        log_key = stack.manage("ledger", "key").stdout.strip()
        witness_keys, lines = [], []
        for n in (1, 2):
            name = f"witness{n}.test/w"
            key_file = str(tmp_path / f"w{n}.key")
            key = subprocess.run(
                [sys.executable, "-I", str(WITNESS), "generate-key", "--name", name, "--key-file", key_file],
                capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            port = free_port()
            stack._start(
                f"witness{n}",
                [sys.executable, "-I", str(WITNESS), "serve", "--name", name, "--key-file", key_file,
                 "--state-dir", str(tmp_path / f"w{n}"), "--log-key", log_key, "--listen", f"127.0.0.1:{port}"],
            )  # fmt: skip
            witness_keys.append(key)
            lines.append(f"witness w{n} {key} http://127.0.0.1:{port}")
        policy.write_text("\n".join([*lines, "group both all w1 w2", "quorum both", ""]))
        stack.migrate()
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        mirror_port = free_port()
        stack._start(
            "mirror",
            [sys.executable, "-I", str(MIRROR), "--log", stack.url("/log"), "--log-key", log_key,
             "--dir", str(tmp_path / "mirror"), "--listen", f"127.0.0.1:{mirror_port}", "--interval", "0.5"],
        )  # fmt: skip

        stack.manage("shell", "-c", GROW)
        published = wait_for(
            lambda: (found := _published(stack.url("/log/checkpoint"))) and found[1] >= 700 and found,
            what="a published checkpoint of all 700 accesses",
            seconds=90,
        )
        held = wait_for(
            lambda: (found := _published(f"http://127.0.0.1:{mirror_port}/checkpoint")) and found[1] >= 700 and found,
            what=f"the mirror to hold 700 entries:\n{stack.log('mirror')}",
            seconds=90,
        )

        note, size, root = published
        assert sorted(tlog.cosignatures_verify(note, witness_keys)) == ["witness1.test/w", "witness2.test/w"]
        assert tlog.checkpoint_verify(note, log_key)[2] == size
        # The mirror copied the same tree (it may already hold a later one: compare at the same size).
        _, mirror_size, _, builder = tlog.log_follow(tlog.http_fetcher(f"http://127.0.0.1:{mirror_port}"), log_key)
        assert mirror_size == held[1] >= size
        if mirror_size == size:
            assert builder.root() == base64.b64decode(root)
        assert stack.processes["mirror"].poll() is None, stack.log("mirror")
        # A witness that stops means no new checkpoint is published, though the log goes on signing.
        stack.stop("witness2")
        before = _published(stack.url("/log/checkpoint"))[1]
        stack.manage("shell", "-c", GROW)
        time.sleep(3)
        assert _published(stack.url("/log/checkpoint"))[1] == before
