"""Real threads on PostgreSQL: twenty simultaneous publishes never overspend a period's budget."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from ledger.api import Actor, access_context
from services.statistics.actions import period_publish
from services.statistics.errors import BudgetExhausted
from services.statistics.models import PeriodBudget, Release
from services.statistics.periods import period_parse
from services.statistics.tables import TABLES
from tests.services.statistics import data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency are tested on PostgreSQL; SQLite serialises writers")


# Each table costs 0.15 of the limit 0.5: any three fit, a fourth never does.
@override_settings(
    ONECARD_STATISTICS_TABLE_SHARES={code: 0.3 for code in TABLES}, ONECARD_STATISTICS_RHO_PER_PERIOD=0.5
)
def test_twenty_concurrent_publishes_never_exceed_the_budget():
    for _ in range(5):
        data.resident()
    period = period_parse(data.PERIOD)
    codes = list(TABLES)
    barrier = threading.Barrier(20)
    outcomes: list[tuple[str, str, object]] = []

    def publish(code: str) -> None:
        try:
            with access_context(
                actor=Actor(type="system", id="race"), role="system", channel="command", purpose="official-statistics"
            ):
                barrier.wait()
                release = period_publish(period=period, tables=[code]).releases[0]
            outcomes.append((code, "released", release.rows))
        except BudgetExhausted:
            outcomes.append((code, "refused", None))
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(codes[n % len(codes)],)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    budget = PeriodBudget.objects.get(period=data.PERIOD)
    releases = list(Release.objects.filter(period=data.PERIOD))
    assert len(outcomes) == 20
    assert len(releases) == 3
    assert budget.spent_rho == sum(release.rho for release in releases) == Decimal("0.45") <= budget.limit_rho
    released = {release.table: release.rows for release in releases}
    for code, outcome, rows in outcomes:
        # A table either has its one release, the same for every caller, or is refused for everyone.
        assert (outcome == "released") == (code in released)
        assert rows == released.get(code)
