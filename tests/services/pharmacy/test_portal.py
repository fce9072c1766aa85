"""Residents see their prescriptions, remaining fills and purchases in the portal's health section."""

import pytest

from ledger.models import PendingEntry
from tests.factories.pharmacy import pharmacy_with_client, prescription, qr_token
from tests.factories.portal import resident_with_account, sign_in
from tests.ledger.database import pending_discard

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    user, resident, card, device = resident_with_account()
    sign_in(client, user, device)
    return client, resident, card


def test_the_health_section_shows_remaining_fills_and_purchases(signed_in):
    client, resident, card = signed_in
    rx = prescription(resident, drug_name="Metformin hydrochloride", quantity=60, repeats_allowed=1)
    agency, pharmacy = pharmacy_with_client(name_en="Corner Pharmacy")
    session = pharmacy.post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()["session"]
    pharmacy.post(
        "/api/v1/pharmacy/dispensations",
        {"session": session, "prescription": rx.pk, "quantity": 20, "price": "40.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    pending_discard()

    response = client.get("/me/services/health/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Metformin hydrochloride" in page
    assert "<td>120</td>" in page and "<td>20</td>" in page and "<td>100</td>" in page
    assert "Corner Pharmacy" in page
    assert list(PendingEntry.objects.order_by("id").values_list("action", "actor_type", "purpose")) == [
        ("health.coverage.read", "resident", "self-service"),
        ("health.visits.read", "resident", "self-service"),
        ("pharmacy.prescriptions.read", "resident", "self-service"),
        ("pharmacy.dispensations.read", "resident", "self-service"),
    ]


def test_the_health_section_shows_another_residents_prescriptions_to_nobody(signed_in):
    client, _resident, _card = signed_in
    from tests.factories import ResidentFactory

    prescription(ResidentFactory(), drug_name="Someone else's medicine")

    page = client.get("/me/services/health/").content.decode()

    assert "Someone else" not in page
    assert "You have no prescriptions." in page


def test_the_health_section_is_translated(signed_in):
    client, resident, _card = signed_in
    prescription(resident)

    page = client.get("/me/services/health/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "处方" in page
