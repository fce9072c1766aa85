"""Officers' admin pages record every resident they show under the stated purpose, and decide claims."""

import datetime

import pytest

from ledger.api import actor_pseudonym
from services.health.models import Prescription, Visit
from services.social_security.models import UnemploymentClaim
from tests.factories import ResidentFactory
from tests.factories.core import AgencyFactory
from tests.factories.services import contribute, employ, employer, entries
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def officer_in(client, role: str, purpose: str):
    """Log a ROLE officer into the admin with PURPOSE stated; return their ledger pseudonym."""
    user = staff_create(role)
    admin_login(client, user)
    purpose_state(client, purpose)
    return actor_pseudonym(kind="staff", reference=str(user.pk))


def test_the_contribution_list_records_each_resident_it_shows_under_the_stated_purpose(client):
    company = employer()
    contribute(ResidentFactory(), company, datetime.date(2024, 1, 1), 1, insurances=["pension"])
    contribute(ResidentFactory(), company, datetime.date(2024, 1, 1), 1, insurances=["pension", "medical"])
    officer = officer_in(client, "social-security-officer", "benefit-eligibility")

    response = client.get("/admin/social_security/contribution/")

    assert response.status_code == 200
    assert (
        entries(action__contains=".admin.")
        == [("social_security.contributions.admin.list", officer, "benefit-eligibility", "ok")] * 2
    )


def test_a_contribution_is_read_only_even_for_an_officer_who_may_see_it(client):
    company = employer()
    contribute(ResidentFactory(), company, datetime.date(2024, 1, 1), 1, insurances=["pension"])
    officer_in(client, "social-security-officer", "benefit-eligibility")

    response = client.get("/admin/social_security/contribution/add/")

    assert response.status_code == 403


def test_opening_a_visit_records_it_as_a_read(client):
    visit = Visit.objects.create(
        resident=ResidentFactory(),
        hospital=AgencyFactory(kind="hospital"),
        visited_on=datetime.date(2025, 1, 2),
        icd10_code="J11.1",
        diagnosis="Influenza",
        cost=100,
        reimbursement_rate=0,
        insured_share=0,
    )
    officer = officer_in(client, "health-officer", "health-administration")

    response = client.get(f"/admin/health/visit/{visit.pk}/change/")

    assert response.status_code == 200
    assert entries(action__contains=".admin.") == [("health.visits.admin.read", officer, "health-administration", "ok")]


def test_approving_from_the_admin_decides_assessed_claims_only_under_the_stated_purpose(client):
    assessed = UnemploymentClaim.objects.create(
        resident=ResidentFactory(), unemployed_since=datetime.date(2025, 1, 1), status="assessed", entitled_months=3
    )
    submitted = UnemploymentClaim.objects.create(resident=ResidentFactory(), unemployed_since=datetime.date(2025, 1, 1))
    officer = officer_in(client, "social-security-officer", "benefit-administration")

    response = client.post(
        "/admin/social_security/unemploymentclaim/",
        {"action": "approve", "_selected_action": [assessed.pk, submitted.pk]},
    )

    assert response.status_code == 302
    assessed.refresh_from_db()
    submitted.refresh_from_db()
    assert (assessed.status, submitted.status) == ("approved", "submitted")
    assert entries(action__in=["social_security.claims.admin.action", "social_security.claims.decide"]) == [
        ("social_security.claims.admin.action", officer, "benefit-administration", "ok"),
        ("social_security.claims.admin.action", officer, "benefit-administration", "ok"),
        ("social_security.claims.decide", officer, "benefit-administration", "ok"),
    ]


def test_the_employment_list_records_each_resident_it_shows(client):
    employ(ResidentFactory(), employer())
    officer = officer_in(client, "social-security-officer", "benefit-eligibility")

    response = client.get("/admin/social_security/employment/")

    assert response.status_code == 200
    assert entries(action__contains=".admin.") == [
        ("social_security.employments.admin.list", officer, "benefit-eligibility", "ok")
    ]


def test_the_prescription_list_records_each_resident_it_shows(client):
    Prescription.objects.create(
        resident=ResidentFactory(),
        hospital=AgencyFactory(kind="hospital"),
        prescriber="Dr. Chen",
        drug_code="X1",
        drug_name="Metformin",
        strength="500 mg",
        form="tablet",
        quantity=30,
        max_days_supply=30,
        valid_until=datetime.date.today() + datetime.timedelta(days=30),
    )
    officer = officer_in(client, "health-officer", "health-administration")

    response = client.get("/admin/health/prescription/")

    assert response.status_code == 200
    assert entries(action__contains=".admin.") == [
        ("health.prescriptions.admin.list", officer, "health-administration", "ok")
    ]
