"""Each table counts what it says, over fixed cells, with every resident's contribution clipped to its bound."""

import datetime
import math

import pytest
from django.test import override_settings

from services.statistics.periods import period_parse
from services.statistics.tables import (
    CARD_USE_CAP,
    GRANT_PROGRAMMES_MAX,
    PARTNER_ACCESS_CAP,
    PRESCRIPTION_FILL_CAP,
    TABLES,
    resident_subject,
)
from tests.factories.core import AgencyFactory
from tests.factories.grants import ProgrammeFactory
from tests.idnumbers import make_national_id
from tests.services.statistics import data

pytestmark = pytest.mark.django_db

PERIOD = period_parse(data.PERIOD)


def _values(code: str, measure: str = "count") -> dict[str, int]:
    computed = TABLES[code].compute(PERIOD)
    return dict(zip([cell.key for cell in computed.cells], computed.values[measure], strict=True))


def test_the_ledger_subject_of_a_resident_is_the_one_the_tables_record_under():
    person = data.resident()

    assert resident_subject(person.pk) == person.ledger_subject


def test_residents_count_once_in_the_province_of_their_id_and_only_once_registered():
    data.resident(national_id_value=make_national_id(county="110105", sequence=501))
    data.resident(national_id_value=make_national_id(county="110105", sequence=502))
    data.resident(
        national_id_value=make_national_id(county="440305", sequence=503),
        registered=data.IN_PERIOD + datetime.timedelta(days=40),
    )

    values = _values("residents")

    assert len(values) == 34
    assert values["11"] == 2
    assert values["44"] == 0  # registered after the month ended


def test_card_uses_beyond_the_weekly_bound_are_clipped():
    heavy, light = data.resident(), data.resident()
    data.pharmacy_sessions(heavy, count=CARD_USE_CAP + 7)
    data.pharmacy_sessions(light, count=1)

    computed = TABLES["card-uses"].compute(PERIOD)
    values = dict(zip([cell.key for cell in computed.cells], computed.values["count"], strict=True))

    assert values["pharmacy|2025-W37"] == CARD_USE_CAP + 1
    assert computed.clipped["count"] == 7
    assert computed.sensitivity["count"] == pytest.approx(CARD_USE_CAP * math.sqrt(len(computed.cells)))


def test_card_uses_count_visits_sessions_and_grant_payments_in_the_week_of_their_day():
    person = data.resident()
    data.hospital_visits(person, count=1, on=datetime.date(2025, 9, 1))  # Monday of W36
    data.pharmacy_sessions(person, count=1, at=data.IN_PERIOD)  # W37
    data.grant_paid(person, amount="100.00", at=data.IN_PERIOD + datetime.timedelta(days=7))  # W38

    values = _values("card-uses")

    assert (values["health|2025-W36"], values["pharmacy|2025-W37"], values["grants|2025-W38"]) == (1, 1, 1)
    assert sum(values.values()) == 3


def test_the_weeks_of_a_month_are_those_holding_its_thursdays():
    assert [str(monday) for monday in period_parse("2026-10").weeks()] == [
        "2026-09-28",
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
    ]


@override_settings(ONECARD_STATISTICS_GRANT_AMOUNT_CAP_FEN=100_000)
def test_grant_amounts_are_clipped_per_resident_and_a_resident_counts_in_at_most_three_programmes():
    rich, modest = data.resident(), data.resident()
    programmes = [ProgrammeFactory() for _ in range(GRANT_PROGRAMMES_MAX + 1)]
    for programme in programmes:
        data.grant_paid(rich, amount="5000.00", programme=programme)
    data.grant_paid(modest, amount="300.00", programme=programmes[0])

    computed = TABLES["grant-payments"].compute(PERIOD)
    counts = dict(zip([cell.key for cell in computed.cells], computed.values["count"], strict=True))
    totals = dict(zip([cell.key for cell in computed.cells], computed.values["total"], strict=True))

    first, last = str(programmes[0].pk), str(programmes[-1].pk)
    assert counts[first] == 2 and totals[first] == 100_000 + 30_000
    assert counts[last] == 0 and totals[last] == 0  # the rich resident's fourth programme is left out
    assert computed.sensitivity["total"] == pytest.approx(100_000 * math.sqrt(GRANT_PROGRAMMES_MAX))


def test_prescription_fills_are_counted_by_drug_class_and_clipped():
    person = data.resident()
    data.fills(person, count=PRESCRIPTION_FILL_CAP + 2, controlled_class="none")
    data.fills(person, count=1, controlled_class="narcotic")

    values = _values("prescriptions")

    assert values == {"none": PRESCRIPTION_FILL_CAP, "psychotropic_2": 0, "psychotropic_1": 0, "narcotic": 1}


def test_partner_accesses_come_from_the_ledger_by_agency_kind_and_are_clipped(ledger_sequenced):
    from django.utils import timezone

    from ledger.api import Actor, access_context, record

    person = data.resident()
    bank = AgencyFactory(kind="bank")
    with access_context(
        actor=Actor(type="agency", id=bank.code), role="bank", channel="api", purpose="credit-assessment"
    ):
        for _ in range(PARTNER_ACCESS_CAP + 3):
            record(action="checks.age_gte.evaluate", subject=person)
    ledger_sequenced()
    # The accesses happened now; count them in the current month.
    now = timezone.localtime()
    period = period_parse(f"{now.year:04d}-{now.month:02d}")

    computed = TABLES["partner-accesses"].compute(period)
    values = dict(zip([cell.key for cell in computed.cells], computed.values["count"], strict=True))

    assert values["bank"] == PARTNER_ACCESS_CAP
    assert computed.residents == {person.pk}
    assert computed.clipped["count"] == 3
