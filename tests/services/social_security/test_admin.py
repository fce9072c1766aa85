"""Officers' admin pages record every resident they show, and decide claims through the action."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from ledger.models import PendingEntry
from portal.models import User
from services.health.models import Visit
from services.social_security.models import Contribution, UnemploymentClaim
from tests.factories import ResidentFactory
from tests.factories.core import AgencyFactory
from tests.factories.services import contribute, employer, entries


@pytest.fixture
def officer_request():
    officer = User.objects.create_superuser(username="officer", password="x" * 20)
    request = RequestFactory().get("/admin/")
    officer.is_verified = lambda: True  # what django_otp's middleware sets after a verified OTP login
    request.user = officer
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.django_db
def test_the_contribution_list_records_each_row_it_shows(officer_request):
    company = employer()
    contribute(ResidentFactory(), company, datetime.date(2024, 1, 1), 1, insurances=["pension"])
    contribute(ResidentFactory(), company, datetime.date(2024, 1, 1), 1, insurances=["pension", "medical"])

    response = admin.site._registry[Contribution].changelist_view(officer_request)

    assert response.status_code == 200
    officer = f"user:{officer_request.user.pk}"
    assert entries() == [("social_security.contributions.read", officer, "social-security-administration", "ok")] * 3
    assert set(PendingEntry.objects.values_list("channel", "actor_type")) == {("admin", "staff")}


@pytest.mark.django_db
def test_opening_a_visit_records_it(officer_request):
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

    response = admin.site._registry[Visit].change_view(officer_request, str(visit.pk))

    assert response.status_code == 200
    officer = f"user:{officer_request.user.pk}"
    assert entries() == [("health.visits.read", officer, "health-administration", "ok")]


@pytest.mark.django_db
def test_approving_from_the_admin_decides_assessed_claims_only(officer_request):
    assessed = UnemploymentClaim.objects.create(
        resident=ResidentFactory(), unemployed_since=datetime.date(2025, 1, 1), status="assessed", entitled_months=3
    )
    submitted = UnemploymentClaim.objects.create(resident=ResidentFactory(), unemployed_since=datetime.date(2025, 1, 1))
    claim_admin = admin.site._registry[UnemploymentClaim]

    claim_admin.approve(officer_request, UnemploymentClaim.objects.order_by("id"))

    assessed.refresh_from_db()
    submitted.refresh_from_db()
    assert (assessed.status, assessed.decided_by, submitted.status) == ("approved", officer_request.user, "submitted")
    officer = f"user:{officer_request.user.pk}"
    assert entries() == [("social_security.claims.decide", officer, "benefit-administration", "ok")]
