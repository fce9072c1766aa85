"""Crashes and outages never lose the record of an access: a killed worker, Redis down, tampering."""

import subprocess

import psycopg
import pytest

from ledger.triggers import trigger_names
from tests.reliability.conftest import ledger_counts, wait_for
from tests.reliability.load import Load, is_unavailable_problem, recorded_request_ids
from tests.support.stack import free_port, http

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PENDING_SCRIPT = """
from django.db import transaction
from ledger.api import Actor, access_context, record_bulk
with access_context(actor=Actor(type="staff", id="fault-test"), role="registrar", channel="command",
                    purpose="registration"), transaction.atomic():
    for start in range(0, {count}, 10000):
        record_bulk(action="cards.residents.lookup", subjects=[f"resident:{{n}}" for n in range(start, start + 10000)])
"""


def _objects_in_log(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT count(*), count(DISTINCT convert_from(entry_bytes, 'UTF8')::jsonb ->> 'subject')"
            " FROM ledger_entry WHERE convert_from(entry_bytes, 'UTF8')::jsonb ->> 'actor' LIKE '%fault-test%'"
        ).fetchone()


def test_a_worker_killed_mid_sequencing_loses_and_duplicates_nothing(stack_factory):
    stack = stack_factory("kill")
    url = stack.database_url
    # Beat sweeps the pending table throughout, as in a deployment. Let a worker finish
    # what seeding queued (notifications, eligibility checks, their records), so the
    # count below is final before the 50,000 rows arrive.
    stack.start_beat()
    stack.start_worker()
    # seed_demo seals the log itself, so the count can settle before the worker has booted; a SIGTERM
    # before Celery installs its handlers kills it instead of a warm shutdown.
    stack.wait_for_worker()
    seeded = _settled_entry_count(url)
    assert stack.stop("worker") == 0
    stack.manage("shell", "-c", PENDING_SCRIPT.format(count=50_000))
    total = seeded + 50_000
    stack.start_worker()

    at_kill = wait_for(
        lambda: (counts := ledger_counts(url))["entries"] > seeded and counts["pending"] > 0 and counts,
        what="the worker to be part-way through the pending rows",
        seconds=60,
    )
    stack.kill("worker")

    after_kill = ledger_counts(url)
    assert 0 < after_kill["pending"] < total
    assert after_kill["pending"] + after_kill["entries"] == total
    assert after_kill["max_index"] + 1 == after_kill["entries"] == after_kill["checkpoint"]
    assert at_kill["entries"] <= after_kill["entries"]

    stack.start_worker()
    final = wait_for(lambda: (counts := ledger_counts(url))["pending"] == 0 and counts, what="the next run", seconds=90)

    assert final["entries"] == final["checkpoint"] == final["max_index"] + 1 == total
    assert _objects_in_log(url) == (50_000, 50_000)
    assert stack.manage("ledger", "verify", check=False).returncode == 0


def test_a_tampered_entry_is_caught_by_the_scheduled_verify_which_raises_the_alert(stack_factory):
    stack = stack_factory("tamper")
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    wait_for(lambda: ledger_counts(stack.database_url)["pending"] == 0, what="the seed to be sequenced")
    with psycopg.connect(stack.database_url) as connection:
        connection.execute("ALTER TABLE ledger_entry DISABLE TRIGGER USER")
        connection.execute(
            "UPDATE ledger_entry SET entry_bytes = convert_to(replace(convert_from(entry_bytes, 'UTF8'),"
            ' \'"outcome":"ok"\', \'"outcome":"no"\'), \'UTF8\') WHERE "index" = 7'
        )
        for name in trigger_names("ledger_entry"):
            connection.execute(f"ALTER TABLE ledger_entry ENABLE ALWAYS TRIGGER {name}")
    assert "ledger.tasks.verify_log" in stack.manage("shell", "-c", _BEAT_TASKS).stdout

    # What beat sends on schedule, sent now to the real worker.
    stack.manage("shell", "-c", "from ledger.tasks import verify_log; verify_log.delay()")

    alert = wait_for(lambda: _alerts(stack.database_url), what="the verify task to raise an alert")
    assert "first bad entry: 7" in alert[0]
    status, _, body = http("GET", stack.url("/healthz"))
    assert status == 503
    assert b'"failing": ["verification"]' in body


def _settled_entry_count(database_url: str, quiet_seconds: float = 3) -> int:
    """Return the entry count once nothing is pending and the count has not moved for QUIET_SECONDS."""
    import time

    last, since = None, time.monotonic()
    deadline = since + 60
    while time.monotonic() < deadline:
        counts = ledger_counts(database_url)
        current = (counts["pending"], counts["entries"])
        if current != last:
            last, since = current, time.monotonic()
        elif counts["pending"] == 0 and time.monotonic() - since >= quiet_seconds:
            return counts["entries"]
        time.sleep(0.2)
    raise AssertionError(f"the seeded log never settled: {last}")


_BEAT_TASKS = "from django.conf import settings; print([e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values()])"


def _alerts(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as connection:
        return [row[0] for row in connection.execute("SELECT message FROM ledger_alert").fetchall()]


@pytest.fixture
def own_redis():
    """Start a Redis server of this test's own on a free port, so stopping it disturbs no one else."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    servers = []

    def start():
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(server)
        wait_for(lambda: _redis_answers(port), what="the test's Redis to start")

    def stop():
        server = servers.pop()
        server.terminate()
        server.wait(timeout=10)

    start()
    yield {"url": f"redis://127.0.0.1:{port}/0", "start": start, "stop": stop}
    while servers:
        stop()


def _redis_answers(port: int) -> bool:
    import redis

    try:
        return redis.Redis(port=port, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


def test_redis_stopping_under_load_fails_cleanly_and_loses_no_record(stack_factory, own_redis):
    stack = stack_factory("redis", redis_url=own_redis["url"], extra_env={"ONECARD_API_RATE": "1000000/min"})
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    with Load(stack) as load:
        wait_for(lambda: load.count(200) >= 20, what="successful calls before the outage")

        own_redis["stop"]()
        wait_for(lambda: load.count(503) >= 10, what="503 answers during the outage")
        own_redis["start"]()
        served_before = load.count(200)
        wait_for(lambda: load.count(200) >= served_before + 20, what="service to recover", seconds=60)
        answers = load.stop()

    successes = {request_id for request_id, status, _, _ in answers if status == 200}
    failures = [(status, body, headers) for _, status, body, headers in answers if status != 200]
    assert successes <= recorded_request_ids(stack.database_url)
    assert failures and all(is_unavailable_problem(*failure) for failure in failures)
    wait_for(lambda: ledger_counts(stack.database_url)["pending"] == 0, what="the worker to sequence again", seconds=60)
    assert stack.close() == {"web": 0, "worker": 0, "beat": 0}


def _postgres_bin(name: str) -> str:
    import glob

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.skip(f"the PostgreSQL server binaries ({name}) are not installed")
    return found[-1]


@pytest.fixture
def own_postgres():
    """Create and start a PostgreSQL cluster of this test's own, so restarting it disturbs no one else."""
    import os
    import pwd
    import shutil
    import tempfile
    from pathlib import Path

    try:
        postgres_user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no 'postgres' system user to run a throwaway cluster as")
    # Not under pytest's temporary folder: the postgres user cannot enter root's private directories.
    directory = Path(tempfile.mkdtemp(prefix="onecard-cluster-"))
    os.chown(directory, postgres_user.pw_uid, postgres_user.pw_gid)
    data = directory / "data"
    port = free_port()

    def as_postgres(*command):
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*runner, *command], check=True, capture_output=True, text=True)

    as_postgres(_postgres_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = _postgres_bin("pg_ctl")
    as_postgres(pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start")
    as_postgres(_postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "onecard")
    yield {
        "url": f"postgres://postgres@127.0.0.1:{port}/onecard",
        # -l: a postmaster writing to this process's pipe would keep it open and hang the call.
        "restart": lambda: as_postgres(
            pg_ctl, "-D", str(data), "-m", "fast", "-w", "restart", "-o", options, "-l", str(directory / "log")
        ),
    }
    as_postgres(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
    shutil.rmtree(directory, ignore_errors=True)


def test_postgresql_restarting_under_load_loses_no_record_and_needs_no_app_restart(stack_factory, own_postgres):
    stack = stack_factory("pg", database_url=own_postgres["url"], extra_env={"ONECARD_API_RATE": "1000000/min"})
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    with Load(stack) as load:
        wait_for(lambda: load.count(200) >= 20, what="successful calls before the restart")

        own_postgres["restart"]()
        served_before = load.count(200)
        wait_for(lambda: load.count(200) >= served_before + 50, what="service to recover", seconds=60)
        answers = load.stop()

    successes = {request_id for request_id, status, _, _ in answers if status == 200}
    failures = [(status, body, headers) for _, status, body, headers in answers if status != 200]
    assert successes <= recorded_request_ids(stack.database_url)
    assert all(is_unavailable_problem(*failure) for failure in failures)
    wait_for(lambda: ledger_counts(stack.database_url)["pending"] == 0, what="the worker to sequence again", seconds=60)
    assert stack.manage("ledger", "verify", check=False).returncode == 0
    assert stack.close() == {"web": 0, "worker": 0, "beat": 0}
