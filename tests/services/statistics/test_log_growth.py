"""The public log's size must not count what a release hides.

Anyone can read the log's tree size (/ledger/checkpoint) before and after a
release. If a release added one entry per resident who had, say, a
prescription filled that month, the log would grow by that exact count, which
the noise in the table is there to hide. One entry per resident of the month's
register, whatever the table, makes the growth the same for every table.
"""

import datetime

import pytest

from ledger.api import subject_pseudonym
from ledger.models import PendingEntry
from services.statistics.actions import period_publish
from services.statistics.periods import period_parse
from tests.services.statistics import data

pytestmark = pytest.mark.django_db

SEPTEMBER = period_parse(data.PERIOD)
OCTOBER = period_parse("2025-10")


def _release_entries_added(**publish) -> int:
    before = PendingEntry.objects.filter(action="statistics.release").count()
    period_publish(**publish)
    return PendingEntry.objects.filter(action="statistics.release").count() - before


def test_a_table_published_alone_grows_the_log_by_the_register_not_by_who_is_in_the_table(statistician):
    people = [data.resident() for _ in range(5)]
    data.fills(people[0], count=1)
    for person in people[:3]:
        data.fills(person, count=1, at=data.IN_PERIOD + datetime.timedelta(days=30))

    september = _release_entries_added(period=SEPTEMBER, tables=["prescriptions"])
    october = _release_entries_added(period=OCTOBER, tables=["prescriptions"])
    grants = _release_entries_added(period=SEPTEMBER, tables=["grant-payments"])

    assert september == october == grants == len(people)


def test_each_resident_of_the_register_gets_one_entry_naming_every_table_published(statistician):
    in_table, not_in_table = data.resident(), data.resident()
    registered_later = data.resident(registered=data.IN_PERIOD + datetime.timedelta(days=60))
    data.fills(in_table, count=2)

    period_publish(period=SEPTEMBER, tables=["prescriptions", "card-uses"])

    entries = PendingEntry.objects.filter(action="statistics.release")
    assert sorted(entries.values_list("subject", "object")) == sorted(
        (subject_pseudonym(person), "2025-09 prescriptions card-uses") for person in (in_table, not_in_table)
    )
    assert not entries.filter(subject=subject_pseudonym(registered_later)).exists()
