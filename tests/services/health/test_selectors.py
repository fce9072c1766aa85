"""Resident-facing health selectors for the portal: own data only, one recorded entry each."""

import datetime

import pytest
from django.utils import timezone

from ledger.api import Actor, access_context
from services.health.models import Prescription
from services.health.selectors import coverage_get_for_resident, prescription_list_for_resident, visit_list_for_resident
from tests.factories import ResidentFactory
from tests.factories.core import AgencyFactory
from tests.factories.services import entries


@pytest.fixture
def resident_web():
    with access_context(actor=Actor(type="resident", id="r1"), role="resident", channel="web", purpose="self-service"):
        yield


def prescription(resident, hospital, **fields) -> Prescription:
    values = {
        "prescriber": "Dr. Chen",
        "drug_code": "X1",
        "drug_name": "Metformin",
        "strength": "500 mg",
        "form": "tablet",
        "quantity": 30,
        "max_days_supply": 30,
        "valid_until": timezone.localdate() + datetime.timedelta(days=30),
    } | fields
    return Prescription.objects.create(resident=resident, hospital=hospital, **values)


@pytest.mark.django_db
def test_open_prescriptions_leave_out_expired_and_cancelled_ones(resident_web):
    resident = ResidentFactory()
    hospital = AgencyFactory(kind="hospital")
    kept = prescription(resident, hospital)
    prescription(resident, hospital, valid_until=timezone.localdate() - datetime.timedelta(days=1))
    prescription(resident, hospital, status="cancelled")
    prescription(ResidentFactory(), hospital)

    assert prescription_list_for_resident(resident=resident, open_only=True) == [kept]
    assert len(prescription_list_for_resident(resident=resident)) == 3
    assert entries() == [("health.prescriptions.read", "r1", "self-service", "ok")] * 2


@pytest.mark.django_db
def test_coverage_and_visits_are_recorded(resident_web):
    resident = ResidentFactory()

    coverage = coverage_get_for_resident(resident=resident)
    visits = visit_list_for_resident(resident=resident)

    assert not coverage.covered
    assert visits == []
    assert entries() == [
        ("health.coverage.read", "r1", "self-service", "ok"),
        ("health.visits.read", "r1", "self-service", "ok"),
    ]


@pytest.mark.django_db
def test_reading_prescriptions_records_one_entry(resident_web):
    resident = ResidentFactory()
    prescription(resident, AgencyFactory(kind="hospital"))

    prescription_list_for_resident(resident=resident)

    assert entries() == [("health.prescriptions.read", "r1", "self-service", "ok")]
