"""Each privacy-computing benchmark runs end to end at a small size, so a change cannot break one unnoticed.

The figures are measured by `make bench`, never here: these tests check only
that each suite still runs and that what it checks of its own result holds
(the private match equals the plain one; every matched resident is recorded).
"""

import os

import pytest

from tests.reliability.conftest import neighbour_redis_url, redis_flush

POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
needs_postgres = pytest.mark.skipif(not POSTGRES, reason="the bench generates its rows with PostgreSQL SQL")


@pytest.fixture
def own_redis(monkeypatch):
    """Point the bench's processes at the neighbouring Redis database, emptied before and after, as the
    full-stack tests do: what they queue must not reach the test run's broker."""
    if not os.environ.get("REDIS_URL"):
        yield
        return
    url = neighbour_redis_url(os.environ["REDIS_URL"])
    monkeypatch.setenv("REDIS_URL", url)
    redis_flush(url)
    yield
    redis_flush(url)


def test_the_psi_bench_runs_and_matches_like_plain_python():
    from bench import matching_bench

    rows = matching_bench.run(partner=200, set_size=1_000)

    assert [row["name"] for row in rows] == ["matching.psi.ids_per_s", "matching.psi.megabytes"]
    assert rows[0]["value"] > 0 and rows[0]["baseline"] > 0


@needs_postgres
def test_the_statistics_bench_runs(own_redis):
    from bench import statistics_bench

    [row] = statistics_bench.run(residents=2_000)

    assert row["name"] == "statistics.publish.seconds_1m" and row["value"] > 0
    assert "2,000 ledger entries" in row["note"]


@needs_postgres
def test_the_end_to_end_matching_bench_runs(own_redis):
    from bench import matching_http_bench

    rows = matching_http_bench.run(partner=200, set_size=1_000)

    assert [row["name"] for row in rows] == ["matching.http.seconds_100k", "matching.http.ids_per_s"]
