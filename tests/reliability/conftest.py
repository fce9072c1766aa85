"""Fixtures for the full-stack and fault tests: real gunicorn, Celery worker and beat as child processes.

They need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), as in CI, and skip
with the reason otherwise. Each stack gets a throwaway database next to the
configured one and the neighbouring Redis database number, so it never sees
the test session's data.
"""

import json
import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.stack import Stack, http, throwaway_database


def _services_or_skip() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("full-stack tests need DATABASE_URL=postgres://… (they run a real gunicorn and Celery)")
    if not redis_url:
        pytest.skip("full-stack tests need REDIS_URL=redis://… (the Celery broker of the real worker)")
    return database_url, redis_url


def neighbour_redis_url(redis_url: str) -> str:
    """Return REDIS_URL with its database number flipped in the lowest bit (0<->1, 12<->13)."""
    parts = urlsplit(redis_url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{number ^ 1}"))


def stack_database_name(suffix: str) -> str:
    """Return a database name next to the configured one, e.g. onecard_stack_smoke."""
    return f"{urlsplit(os.environ['DATABASE_URL']).path.strip('/')}_stack_{suffix}"


def redis_flush(redis_url: str) -> None:
    """Empty one Redis database: tasks queued by an earlier run must not leak into this one."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def services():
    """Return (database_url, redis_url) of the configured PostgreSQL and Redis, or skip."""
    return _services_or_skip()


@pytest.fixture
def stack_factory(services, request):
    """Return a function that makes a migrated, seeded Stack on a throwaway database; all are torn down."""
    stacks, databases = [], []

    def make(suffix: str, *, redis_url: str | None = None, database_url: str | None = None, **options):
        if database_url is None:
            context = throwaway_database(stack_database_name(suffix))
            database_url = context.__enter__()
            databases.append(context)
        redis_url = redis_url or neighbour_redis_url(services[1])
        redis_flush(redis_url)
        stack = Stack(database_url=database_url, redis_url=redis_url, **options)
        stacks.append(stack)
        stack.migrate()
        stack.demo = json.loads(stack.manage("seed_demo", "--force", "--json").stdout)
        return stack

    yield make
    for stack in stacks:
        stack.__exit__(None, None, None)
    for context in databases:
        context.__exit__(None, None, None)


def agency(stack: Stack, code: str) -> dict:
    """Return the seeded agency CODE with its fresh API key."""
    return next(a for a in stack.demo["agencies"] if a["code"] == code)


def verify_card(stack: Stack, *, token: str, request_id: str = "", timeout: float = 10) -> tuple[int, dict, bytes]:
    """POST /api/v1/cards/verify as the demo bank; return (status, headers, body)."""
    bank = agency(stack, "demo-bank")
    headers = {"Authorization": f"Bearer {bank['api_key']}", "X-Purpose": "identity-verification"}
    if request_id:
        headers["X-Request-Id"] = request_id
    return http("POST", stack.url("/api/v1/cards/verify"), body={"token": token}, headers=headers, timeout=timeout)


def checkpoint_size(stack: Stack) -> int:
    """Return the tree size of the latest signed checkpoint the stack publishes (0 before the first)."""
    status, _, body = http("GET", stack.url("/ledger/checkpoint"))
    return int(body.decode().split("\n")[1]) if status == 200 else 0


def wait_for(condition, *, what: str, seconds: float = 30):
    """Return CONDITION's first truthy value, polling; fail the test if it never comes."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def ledger_counts(database_url: str) -> dict:
    """Return the pending, entry and checkpoint counts and the largest index, read straight from the database."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        pending, entries, top, checkpoint = connection.execute(
            "SELECT (SELECT count(*) FROM ledger_pendingentry), (SELECT count(*) FROM ledger_entry),"
            ' (SELECT max("index") FROM ledger_entry), (SELECT max(tree_size) FROM ledger_checkpoint)'
        ).fetchone()
    return {"pending": pending, "entries": entries, "max_index": top, "checkpoint": checkpoint}
