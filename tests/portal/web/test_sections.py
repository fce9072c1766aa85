"""Social security and health pages: what they show, the ledger rows they write, step-up on statements."""

import datetime

import pytest
from django.utils import timezone

from services.social_security.models import UnemploymentClaim
from services.social_security.months import month_add, month_of
from tests.factories.health import hospital, prescription, visit
from tests.factories.portal import sign_in
from tests.factories.services import contribute, employ, employer

pytestmark = pytest.mark.django_db

SELF = ("resident", "resident", "web", "self-service", "ok")


@pytest.fixture
def employed(resident_a):
    """Resident A, employed since 2020 by Harbour Logistics with 15 months of every insurance."""
    firm = employer(name_en="Harbour Logistics", name_zh_hans="港湾物流")
    employ(resident_a[1], firm, started_on=datetime.date(2020, 1, 1))
    contribute(resident_a[1], firm, month_add(month_of(timezone.localdate()), -15), 15)
    return firm


def test_social_security_page_shows_employment_contributions_and_records_three_reads(client_a, employed, ledger_rows):
    response = client_a.get("/me/services/social-security/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Harbour Logistics" in page
    assert "2020-01-01" in page
    assert "still employed" in page
    newest = month_add(month_of(timezone.localdate()), -1)
    assert f"{newest:%Y-%m}" in page
    assert "750.00" in page  # five insurances of 150.00 in a month
    assert ledger_rows() == [
        ("social_security.employments.read", *SELF),
        ("social_security.contributions.read", *SELF),
        ("social_security.claims.read", *SELF),
    ]


def test_contributions_are_paginated_by_twelve_months(client_a, employed):
    oldest = month_add(month_of(timezone.localdate()), -15)

    first = client_a.get("/me/services/social-security/").content.decode()
    second = client_a.get("/me/services/social-security/?page=2").content.decode()

    assert f">{oldest:%Y-%m}<" not in first
    assert f">{oldest:%Y-%m}<" in second
    assert "page 2 of 2" in second


def test_statement_download_needs_a_fresh_one_time_password(client_a, employed, ledger_rows):
    response = client_a.get("/me/services/social-security/statement.pdf")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/step-up/")
    assert ledger_rows() == []


@pytest.mark.parametrize(
    ("suffix", "content_type", "magic"), [("pdf", "application/pdf", b"%pdf-"), ("csv", "text/csv", b"month")]
)
def test_statement_downloads_after_step_up(client, resident_a, employed, ledger_rows, suffix, content_type, magic):
    user, _resident, _card, device = resident_a
    sign_in(client, user, device, step_up=True)

    response = client.get(f"/me/services/social-security/statement.{suffix}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert "attachment" in response["Content-Disposition"]
    assert response.content.lstrip(b"\xef\xbb\xbf").lower().startswith(magic)
    assert ledger_rows() == [("social_security.statement.read", *SELF)]


def test_applying_for_unemployment_benefit_submits_a_claim_and_shows_its_status(client_a, resident_a, ledger_rows):
    resident = resident_a[1]
    since = timezone.localdate() - datetime.timedelta(days=10)

    response = client_a.post(
        "/me/services/social-security/claims/apply/", {"unemployed_since": since.isoformat(), "reason": "closed"}
    )

    assert response.status_code == 302
    claim = UnemploymentClaim.objects.get(resident=resident)
    assert claim.unemployed_since == since
    assert ledger_rows()[0] == ("social_security.claims.submit", *SELF)
    page = client_a.get(response["Location"]).content.decode()
    assert f"#{claim.pk}" in page
    claim.refresh_from_db()
    assert claim.get_status_display() in page


def test_applying_with_a_future_date_is_refused_with_a_message(client_a, resident_a):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client_a.post("/me/services/social-security/claims/apply/", {"unemployed_since": tomorrow})

    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not UnemploymentClaim.objects.filter(resident=resident_a[1]).exists()


def test_a_second_open_claim_is_refused_with_a_message(client_a, resident_a):
    UnemploymentClaim.objects.create(resident=resident_a[1], unemployed_since=datetime.date(2025, 1, 1))

    response = client_a.post("/me/services/social-security/claims/apply/", {"unemployed_since": "2025-02-01"})

    assert response.status_code == 200
    assert "already have a claim" in response.content.decode()
    assert UnemploymentClaim.objects.filter(resident=resident_a[1]).count() == 1


def test_health_page_shows_coverage_rule_visits_prescriptions_and_records_three_reads(
    client_a, resident_a, employed, ledger_rows
):
    resident = resident_a[1]
    at = hospital(name_en="Riverside General")
    visit(resident, at, diagnosis="Sprained ankle", icd10_code="S93.4")
    prescription(resident, at, drug_name="Amoxicillin", repeats_allowed=2, min_fill_interval_days=7)

    response = client_a.get("/me/services/health/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "covered" in page and "not covered" not in page
    assert "70 %" in page
    assert "one of the 3 months before it" in page
    assert "Riverside General" in page and "Sprained ankle" in page
    assert "Amoxicillin" in page
    assert "can be dispensed" in page
    assert ledger_rows() == [
        ("health.coverage.read", *SELF),
        ("health.visits.read", *SELF),
        ("pharmacy.prescriptions.read", *SELF),
        ("pharmacy.dispensations.read", *SELF),
    ]


def test_health_page_without_contributions_says_not_covered(client_a):
    page = client_a.get("/me/services/health/").content.decode()

    assert "not covered" in page
    assert "0 %" in page


def test_service_pages_speak_chinese(client_a, employed):
    client_a.post("/i18n/setlang/", {"language": "zh-hans", "next": "/me/"})

    social = client_a.get("/me/services/social-security/").content.decode()
    health = client_a.get("/me/services/health/").content.decode()

    assert "港湾物流" in social and "缴费证明" in social and "医疗保险" in social
    assert "Statements" not in social
    assert "享有保障" in health and "规则" in health
    assert "Prescriptions" not in health
