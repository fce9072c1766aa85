"""Hospitals record visits and issue prescriptions; partners read coverage and, with consent, visits."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.models import PendingEntry
from services.health.models import Prescription, Visit
from tests.factories import ResidentFactory
from tests.factories.core import agency_with_key
from tests.factories.services import api, consent, contribute, employer, entries
from tests.ledger.database import pending_discard

TREATMENT = "medical-treatment"


@pytest.fixture
def hospital():
    agency, key = agency_with_key(
        kind="hospital",
        scopes=["health:visits:write", "health:prescriptions:write", "health:coverage:read", "health:visits:read"],
        purposes=[TREATMENT],
    )
    return agency, api(key, TREATMENT)


@pytest.fixture
def insured():
    resident = ResidentFactory()
    this_month = timezone.localdate().replace(day=1)
    contribute(resident, employer(), this_month, 1, insurances=["medical"])
    pending_discard()
    return resident


def visit_body(resident, **overrides) -> dict:
    return {
        "national_id": resident.national_id,
        "visited_on": timezone.localdate().isoformat(),
        "icd10_code": "e11.9",
        "diagnosis": "Type 2 diabetes mellitus without complications",
        "cost": "350.00",
    } | overrides


@pytest.mark.django_db
def test_a_visit_of_an_insured_resident_is_reimbursed_at_the_coverage_rate(hospital, insured):
    agency, client = hospital

    response = client.post("/api/v1/health/visits", visit_body(insured), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["icd10_code"], body["reimbursement_rate"], body["insured_share"]) == ("E11.9", "0.700", "245.00")
    assert entries() == [("health.visits.record", agency.code, TREATMENT, "ok")]


@pytest.mark.django_db
def test_a_visit_of_an_uninsured_resident_has_no_insured_share(hospital):
    _agency, client = hospital
    resident = ResidentFactory()

    response = client.post("/api/v1/health/visits", visit_body(resident), format="json")

    assert response.json()["insured_share"] == "0.00"


@pytest.mark.django_db
def test_a_malformed_icd10_code_is_an_invalid_request_and_nothing_is_recorded(hospital, insured):
    _agency, client = hospital

    response = client.post("/api/v1/health/visits", visit_body(insured, icd10_code="diabetes"), format="json")

    assert response.status_code == 400
    assert response.json()["type"] == "/api/problems/invalid-request"
    assert response.json()["errors"][0]["pointer"] == "#/icd10_code"
    assert Visit.objects.count() == PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_coverage_is_answered_without_consent_and_recorded(hospital, insured):
    agency, client = hospital

    response = client.post("/api/v1/health/coverage", {"national_id": insured.national_id}, format="json")

    assert response.json()["covered"] is True
    assert response.json()["reimbursement_rate"] == "0.700"
    assert entries() == [("health.coverage.read", agency.code, TREATMENT, "ok")]


@pytest.mark.django_db
def test_reading_visits_needs_consent(hospital, insured):
    agency, client = hospital

    refused = client.post("/api/v1/health/visits/query", {"national_id": insured.national_id}, format="json")
    consent(insured, agency, "health:visits:read", TREATMENT)
    pending_discard()
    allowed = client.post("/api/v1/health/visits/query", {"national_id": insured.national_id}, format="json")

    assert refused.status_code == 403
    assert refused.json()["type"] == "/api/problems/consent-missing"
    assert allowed.status_code == 200
    assert allowed.json() == {"visits": []}
    assert entries() == [("health.visits.read", agency.code, TREATMENT, "ok")]


def prescription_body(resident, **overrides) -> dict:
    return {
        "national_id": resident.national_id,
        "prescriber": "Dr. Chen",
        "drug_code": "86900123000011",
        "drug_name": "Metformin",
        "strength": "500 mg",
        "form": "tablet",
        "quantity": 60,
        "repeats_allowed": 2,
        "min_fill_interval_days": 25,
        "max_days_supply": 30,
        "valid_until": (timezone.localdate() + datetime.timedelta(days=90)).isoformat(),
    } | overrides


@pytest.mark.django_db
def test_a_prescription_is_issued_with_every_field_the_pharmacy_needs(hospital, insured):
    agency, client = hospital
    visit = client.post("/api/v1/health/visits", visit_body(insured), format="json").json()
    pending_discard()

    response = client.post(
        "/api/v1/health/prescriptions", prescription_body(insured, visit_id=visit["id"]), format="json"
    )

    assert response.status_code == 201, response.content
    prescription = Prescription.objects.get()
    assert prescription.fills_allowed == 3
    assert prescription.is_open()
    assert prescription.visit_id == visit["id"]
    assert entries() == [("health.prescriptions.issue", agency.code, TREATMENT, "ok")]


@pytest.mark.django_db
def test_a_controlled_drug_cannot_have_repeats_or_more_than_seven_days(hospital, insured):
    _agency, client = hospital
    body = prescription_body(insured, controlled_class="psychotropic_2", repeats_allowed=1, max_days_supply=30)

    response = client.post("/api/v1/health/prescriptions", body, format="json")

    assert response.status_code == 400
    assert {error["pointer"] for error in response.json()["errors"]} == {"#/repeats_allowed", "#/max_days_supply"}
    assert Prescription.objects.count() == 0


@pytest.mark.django_db
def test_a_visit_of_another_hospital_cannot_be_named(hospital, insured):
    _agency, client = hospital
    other, other_key = agency_with_key(kind="hospital", scopes=["health:visits:write"], purposes=[TREATMENT])
    visit = api(other_key, TREATMENT).post("/api/v1/health/visits", visit_body(insured), format="json").json()

    response = client.post(
        "/api/v1/health/prescriptions", prescription_body(insured, visit_id=visit["id"]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/visit_id"


@pytest.mark.django_db
def test_the_insured_share_never_exceeds_the_cost(hospital, insured):
    _agency, client = hospital

    client.post("/api/v1/health/visits", visit_body(insured, cost="0.01"), format="json")

    visit = Visit.objects.get()
    assert visit.insured_share <= visit.cost == Decimal("0.01")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/health/visits", "/api/v1/health/prescriptions"])
def test_an_invalid_write_is_refused_alike_for_a_registered_and_an_unregistered_id(hospital, insured, path):
    from tests.idnumbers import make_national_id

    _agency, client = hospital
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    bodies = {
        "/api/v1/health/visits": lambda national_id: visit_body(insured, national_id=national_id, visited_on=tomorrow),
        "/api/v1/health/prescriptions": lambda national_id: {
            "national_id": national_id,
            "prescriber": "Dr. Chen",
            "drug_code": "X1",
            "drug_name": "Zolpidem",
            "strength": "10 mg",
            "form": "tablet",
            "quantity": 7,
            "max_days_supply": 60,
            "controlled_class": "psychotropic_2",
            "valid_until": tomorrow,
        },
    }

    registered = client.post(path, bodies[path](insured.national_id), format="json")
    unregistered = client.post(path, bodies[path](make_national_id(sequence=991)), format="json")

    assert registered.status_code == unregistered.status_code == 400
    assert registered.json() == unregistered.json()
    assert "national_id" not in {error["pointer"].strip("#/") for error in unregistered.json()["errors"]}
