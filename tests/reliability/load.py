"""Partner API load for the fault tests: every request carries its own id, every answer is kept."""

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg

from tests.reliability.conftest import verify_card


class Load:
    """Send card verifications from THREADS threads until stopped; keep (request id, status, body)."""

    def __init__(self, stack, *, threads: int = 4) -> None:
        self.stack = stack
        self.tokens = [citizen["card_token"] for citizen in stack.demo["citizens"]]
        self.answers: list[tuple[str, int, bytes, dict]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(threads)
        self._futures = [self._pool.submit(self._run, n) for n in range(threads)]

    def _run(self, n: int) -> None:
        count = 0
        while not self._stop.is_set():
            request_id = f"fault-{uuid.uuid4().hex}"
            token = self.tokens[(n + count) % len(self.tokens)]
            count += 1
            try:
                status, headers, body = verify_card(self.stack, token=token, request_id=request_id, timeout=15)
            except OSError:
                status, headers, body = 0, {}, b""
            with self._lock:
                self.answers.append((request_id, status, body, headers))

    def __enter__(self) -> "Load":
        return self

    def __exit__(self, *exc) -> None:
        if not self._stop.is_set():
            self.stop()

    def count(self, status: int) -> int:
        """Return how many answers so far had STATUS."""
        with self._lock:
            return sum(1 for _, answered, _, _ in self.answers if answered == status)

    def stop(self) -> list[tuple[str, int, bytes, dict]]:
        """Stop sending and return every answer."""
        self._stop.set()
        for future in self._futures:
            future.result()
        self._pool.shutdown()
        return self.answers


def recorded_request_ids(database_url: str) -> set[str]:
    """Return the request ids of every recorded API access, pending or sequenced."""
    with psycopg.connect(database_url) as connection:
        pending = connection.execute("SELECT request_id FROM ledger_pendingentry WHERE channel = 'api'").fetchall()
        sequenced = connection.execute(
            "SELECT convert_from(entry_bytes, 'UTF8')::jsonb ->> 'request_id' FROM ledger_entry"
        ).fetchall()
    return {row[0] for row in pending + sequenced}


def is_unavailable_problem(status: int, body: bytes, headers: dict) -> bool:
    """Return whether an answer is the clean 503 problem+json of an outage."""
    if status != 503 or headers.get("Content-Type") != "application/problem+json":
        return False
    return json.loads(body)["type"] == "/api/problems/service-unavailable"
