"""Resident-facing selectors for the portal: each returns the resident's own data and records one entry."""

import datetime

import pytest

from ledger.api import Actor, access_context
from services.social_security.selectors import (
    contribution_list_for_resident,
    contribution_statement,
    employment_list_for_resident,
)
from tests.factories import ResidentFactory
from tests.factories.services import contribute, employ, employer, entries


@pytest.fixture
def resident_web():
    with access_context(actor=Actor(type="resident", id="r1"), role="resident", channel="web", purpose="self-service"):
        yield


@pytest.mark.django_db
def test_employment_and_contributions_are_the_residents_own_and_recorded(resident_web):
    resident, other = ResidentFactory(), ResidentFactory()
    company = employer()
    employ(resident, company)
    employ(other, company)
    contribute(resident, company, datetime.date(2024, 1, 1), 2)
    contribute(other, company, datetime.date(2024, 1, 1), 5)

    employments = employment_list_for_resident(resident=resident)
    contributions = contribution_list_for_resident(resident=resident)

    assert [e.resident_id for e in employments] == [resident.pk]
    assert len(contributions) == 2 * 5
    assert entries() == [
        ("social_security.employments.read", "r1", "self-service", "ok"),
        ("social_security.contributions.read", "r1", "self-service", "ok"),
    ]


@pytest.mark.django_db
def test_the_pdf_statement_is_a_pdf_even_with_no_contributions(resident_web):
    resident = ResidentFactory(full_name="王<芳>&")

    pdf = contribution_statement(resident=resident, format="pdf")

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert entries() == [("social_security.statement.read", "r1", "self-service", "ok")]
