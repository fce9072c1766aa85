"""The coverage rule: covered while a medical contribution was made for this month or one of the 3 before."""

import datetime
from decimal import Decimal

import pytest

from services.health.coverage import REIMBURSEMENT_RATE, coverage_on
from tests.factories import ResidentFactory
from tests.factories.services import contribute, employer


@pytest.fixture
def january_only():
    resident = ResidentFactory()
    contribute(resident, employer(), datetime.date(2025, 1, 1), 1, insurances=["medical"])
    return resident


@pytest.mark.django_db
def test_a_january_contribution_covers_through_the_last_day_of_april(january_only):
    coverage = coverage_on(resident=january_only, on=datetime.date(2025, 4, 30))

    assert coverage.covered
    assert coverage.reimbursement_rate == REIMBURSEMENT_RATE
    assert coverage.covered_until == datetime.date(2025, 4, 30)


@pytest.mark.django_db
def test_coverage_ends_on_the_first_of_may(january_only):
    coverage = coverage_on(resident=january_only, on=datetime.date(2025, 5, 1))

    assert not coverage.covered
    assert coverage.reimbursement_rate == Decimal("0")


@pytest.mark.django_db
def test_a_later_contribution_is_not_used_for_an_earlier_day(january_only):
    assert not coverage_on(resident=january_only, on=datetime.date(2024, 12, 31)).covered


@pytest.mark.django_db
def test_other_insurances_do_not_give_medical_coverage():
    resident = ResidentFactory()
    contribute(resident, employer(), datetime.date(2025, 1, 1), 1, insurances=["pension", "unemployment"])

    assert not coverage_on(resident=resident, on=datetime.date(2025, 2, 1)).covered
