"""Publishing: final releases, a budget that refuses what it cannot pay, and one ledger entry per resident used."""

import datetime
import statistics
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from ledger.models import PendingEntry
from services.statistics.actions import period_publish
from services.statistics.errors import BudgetExhausted, PeriodNotClosed
from services.statistics.models import PeriodBudget, Release
from services.statistics.periods import Period, period_parse
from services.statistics.tables import TABLES
from tests.services.statistics import data

pytestmark = pytest.mark.django_db

PERIOD = period_parse(data.PERIOD)


def test_publishing_a_period_releases_every_table_and_spends_each_tables_share(statistician):
    data.resident()

    published = period_publish(period=PERIOD)

    assert [release.table for release in published.new] == list(TABLES)
    budget = PeriodBudget.objects.get(period=data.PERIOD)
    assert budget.limit_rho == Decimal("0.5")
    assert budget.spent_rho == sum(release.rho for release in published.new) == Decimal("0.5")


def test_publishing_again_returns_the_stored_release_never_fresh_noise(statistician):
    data.resident()
    first = period_publish(period=PERIOD, tables=["residents"]).releases[0]

    again = period_publish(period=PERIOD, tables=["residents"])

    assert again.new == []
    assert again.releases[0].pk == first.pk and again.releases[0].rows == first.rows
    assert PeriodBudget.objects.get(period=data.PERIOD).spent_rho == first.rho


@override_settings(ONECARD_STATISTICS_TABLE_SHARES={code: 0.3 for code in TABLES})
def test_a_request_beyond_the_budget_is_refused_and_publishes_nothing(statistician):
    period_publish(period=PERIOD, tables=["residents", "card-uses", "prescriptions"])  # 0.45 of 0.5

    with pytest.raises(BudgetExhausted, match="needs rho=0.150000000.*0.450000000 of the limit 0.500000000"):
        period_publish(period=PERIOD, tables=["grant-payments"])

    assert not Release.objects.filter(table="grant-payments").exists()
    assert PeriodBudget.objects.get(period=data.PERIOD).spent_rho == Decimal("0.45")


def test_a_release_stores_only_noisy_values_and_how_they_were_drawn(statistician):
    data.resident()

    release = period_publish(period=PERIOD, tables=["residents"]).new[0]

    # No exact figure (not even how many residents a table counted) is kept beside the noisy rows.
    assert {field.name for field in Release._meta.concrete_fields} == {
        "id",
        "table",
        "period",
        "mechanism",
        "rho",
        "parameters",
        "rows",
        "published_at",
    }
    assert {key for row in release.rows for key in row} == {"key", "label_en", "label_zh_hans", "count"}


def test_a_month_not_yet_closed_is_refused(statistician):
    with pytest.raises(PeriodNotClosed):
        period_publish(period=PERIOD, now=PERIOD.closes_at - datetime.timedelta(seconds=1))

    assert not Release.objects.exists()


def test_the_empirical_variance_of_many_releases_of_a_fixed_dataset_matches_the_mechanism(statistician):
    for _ in range(3):
        data.resident()
    periods, period = [], Period(2025, 9)
    for _ in range(100):
        periods.append(period)
        period = period.previous()

    deviations, scale = [], None
    for each in periods:
        # Each release against its own month's truth (the residents are in the register from 2025-08 on).
        exact = TABLES["residents"].compute(each)
        truth = dict(zip([cell.key for cell in exact.cells], exact.values["count"], strict=True))
        release = period_publish(period=each, tables=["residents"]).new[0]
        scale = release.parameters["count"]["scale"]
        deviations.extend(row["count"] - truth[row["key"]] for row in release.rows)

    # 3,400 draws: the sample variance's standard error is about 2.4 % of the variance.
    assert statistics.variance(deviations) == pytest.approx(scale**2, rel=0.1)
    assert statistics.fmean(deviations) == pytest.approx(0, abs=4 * scale / len(deviations) ** 0.5)


def test_statistics_release_entries_are_in_the_log_for_the_residents_used(statistician, commit_path, ledger_sequenced):
    from ledger.api import subject_pseudonym

    counted, registered_later = data.resident(), data.resident(registered=data.IN_PERIOD + datetime.timedelta(days=60))
    data.pharmacy_sessions(counted, count=2)

    with commit_path():
        period_publish(period=PERIOD)

    entries = ledger_sequenced(action="statistics.release")
    assert [(entry["subject"], entry["object"], entry["purpose"]) for entry in entries] == [
        (subject_pseudonym(counted), f"2025-09 {' '.join(TABLES)}", "official-statistics")
    ]
    assert subject_pseudonym(registered_later) not in {entry["subject"] for entry in entries}
    assert not PendingEntry.objects.filter(action="statistics.release").exists()


@override_settings(ONECARD_STATISTICS_TABLE_SHARES={code: 0.3 for code in TABLES})
def test_the_command_refuses_a_request_beyond_the_budget_with_a_clear_message(statistician):
    call_command("statistics", "publish", "--period", data.PERIOD, "--table", "residents", "--table", "card-uses")

    with pytest.raises(CommandError, match=r"^budget: the privacy budget of 2025-09 is exhausted"):
        call_command("statistics", "publish", "--period", data.PERIOD)


def test_the_command_names_a_malformed_period():
    with pytest.raises(CommandError, match=r"^period: period must be a month written YYYY-MM"):
        call_command("statistics", "publish", "--period", "2025-13")


def test_the_command_prints_each_release_and_says_which_were_already_released(capsys):
    call_command("statistics", "publish", "--period", data.PERIOD, "--table", "residents")
    call_command("statistics", "publish", "--period", data.PERIOD)

    output = capsys.readouterr().out.splitlines()
    assert output[0].startswith("residents 2025-09: published, rho=0.100000000, 34 rows")
    assert output[1].startswith("residents 2025-09: already released")
    assert output[2].startswith("card-uses 2025-09: published")


def test_a_table_without_a_share_of_the_budget_stops_start_up(settings):
    from services.statistics.checks import table_shares_check

    settings.ONECARD_STATISTICS_TABLE_SHARES = {"residents": 0.5, "census": 0.5}

    errors = table_shares_check(None)

    assert [error.id for error in errors] == ["statistics.E001"]
    assert "missing ['card-uses', 'grant-payments', 'partner-accesses', 'prescriptions']" in errors[0].msg
    assert "unknown ['census']" in errors[0].msg


def test_the_nightly_task_publishes_the_last_closed_month_once(commit_path, ledger_sequenced):
    from services.statistics.periods import period_last_closed
    from services.statistics.tasks import statistics_publish_last_closed

    data.resident(registered=data.IN_PERIOD - datetime.timedelta(days=3650))

    with commit_path():
        first = statistics_publish_last_closed()
    with commit_path():
        again = statistics_publish_last_closed()

    assert (first, again) == (len(TABLES), 0)
    assert Release.objects.filter(period=str(period_last_closed())).count() == len(TABLES)
    assert len(ledger_sequenced(action="statistics.release")) == 1
