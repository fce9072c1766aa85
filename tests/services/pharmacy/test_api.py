"""The pharmacy flow through the API: sessions from the QR code, dispensing, problems and the ledger rows written."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from services.pharmacy.models import Dispensation
from tests.factories.core import agency_with_key
from tests.factories.pharmacy import DISPENSING, prescription, qr_token
from tests.factories.services import api, entries
from tests.ledger.database import pending_discard

pytestmark = pytest.mark.django_db


def dispense(client, session, rx, quantity, key, **extra):
    body = {"session": session, "prescription": rx.pk, "quantity": quantity, "price": "100.00"} | extra
    return client.post("/api/v1/pharmacy/dispensations", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_session_lists_dispensable_prescriptions_without_diagnosis_and_the_co_pay_rate(pharmacy, card):
    agency, client = pharmacy
    rx = prescription(card.resident)
    token = qr_token(card)

    pending_discard()

    response = client.post("/api/v1/pharmacy/sessions", {"token": token}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["reimbursement_rate"], body["co_pay_rate"], body["covered"]) == ("0.700", "0.300", True)
    assert [p["id"] for p in body["prescriptions"]] == [rx.pk]
    assert set(body["prescriptions"][0]) == {
        "id",
        "drug_code",
        "drug_name",
        "strength",
        "form",
        "quantity_per_fill",
        "remaining_quantity",
        "max_days_supply",
        "min_fill_interval_days",
        "next_fill_from",
        "controlled_class",
        "valid_until",
    }
    assert body["prescriptions"][0]["remaining_quantity"] == 180
    assert entries() == [
        ("cards.credentials.verify", agency.code, DISPENSING, "ok"),
        ("pharmacy.sessions.open", agency.code, DISPENSING, "ok"),
        ("pharmacy.prescriptions.read", agency.code, DISPENSING, "ok"),
    ]


def test_a_session_leaves_out_expired_cancelled_and_used_up_prescriptions(pharmacy, card, open_session):
    prescription(card.resident, valid_until=timezone.localdate() - datetime.timedelta(days=1))
    prescription(card.resident, status="cancelled")
    used_up = prescription(card.resident, quantity=5, repeats_allowed=0)
    session = open_session()
    assert dispense(pharmacy[1], session, used_up, 5, "k1").status_code == 201

    response = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json")

    assert response.json()["prescriptions"] == []


def test_a_qr_code_opens_one_session_only(pharmacy, card, ledger_cleared):
    agency, client = pharmacy
    token = qr_token(card)
    assert client.post("/api/v1/pharmacy/sessions", {"token": token}, format="json").status_code == 201
    ledger_cleared()

    response = client.post("/api/v1/pharmacy/sessions", {"token": token}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/problems/token-invalid"
    assert "already_used" in response.json()["detail"]
    assert entries() == [("cards.credentials.verify", agency.code, DISPENSING, "invalid")]


def test_an_expired_qr_code_is_refused(pharmacy, card, monkeypatch):
    token = qr_token(card)
    later = timezone.now() + datetime.timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": token}, format="json")

    assert response.status_code == 400
    assert response.json()["type"] == "/api/problems/token-invalid"


def test_the_static_qr_code_of_the_card_does_not_open_a_session(pharmacy, card):
    from cards.actions import card_token_static
    from ledger.api import Actor, access_context

    with access_context(actor=Actor(type="resident", id="t"), role="resident", channel="web", purpose="self-service"):
        token = card_token_static(card=card)

    response = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": token}, format="json")

    assert response.status_code == 400
    assert "not_dynamic" in response.json()["detail"]


def test_an_agency_without_the_scope_is_refused(card):
    _agency, key = agency_with_key(kind="pharmacy", scopes=["cards:verify"], purposes=[DISPENSING])

    response = api(key, DISPENSING).post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json")

    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/scope-missing"


def test_an_agency_that_is_not_a_pharmacy_is_refused(card):
    scopes = ["pharmacy:prescriptions:read", "pharmacy:dispense"]
    _agency, key = agency_with_key(kind="hospital", scopes=scopes, purposes=[DISPENSING])

    response = api(key, DISPENSING).post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json")

    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/not-a-pharmacy"


def test_a_partial_fill_and_then_a_second_fill_after_the_interval(pharmacy, card, monkeypatch):
    """The flow of docs/pharmacy.md: scan, fill part, come back after the interval, fill again."""
    agency, client = pharmacy
    rx = prescription(card.resident, quantity=60, repeats_allowed=1, min_fill_interval_days=25)
    start = timezone.now()

    session = client.post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()["session"]
    first = dispense(client, session, rx, 30, "fill-1", price="90.00", traceability_codes=["81234567890123456789"])
    monkeypatch.setattr(timezone, "now", lambda: start + datetime.timedelta(days=25, minutes=1))
    later = client.post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()
    second = dispense(client, later["session"], rx, 60, "fill-2")

    assert first.status_code == 201, first.content
    assert (first.json()["insured_share"], first.json()["resident_share"]) == ("63.00", "27.00")
    assert (first.json()["remaining_quantity"], first.json()["days_supply"]) == (90, 15)
    assert first.json()["traceability_codes"] == ["81234567890123456789"]
    assert later["prescriptions"][0]["remaining_quantity"] == 90
    assert second.status_code == 201, second.content
    assert second.json()["remaining_quantity"] == 30
    assert Dispensation.objects.filter(prescription=rx).count() == 2


def test_dispensing_writes_exactly_one_ledger_row(pharmacy, card, open_session, ledger_cleared):
    agency, client = pharmacy
    rx = prescription(card.resident)
    session = open_session()
    ledger_cleared()

    response = dispense(client, session, rx, 10, "k1")

    assert response.status_code == 201
    assert entries() == [("pharmacy.dispensations.create", agency.code, DISPENSING, "ok")]


def test_a_refused_fill_writes_one_denied_row_and_dispenses_nothing(pharmacy, card, open_session, ledger_cleared):
    agency, client = pharmacy
    rx = prescription(card.resident, quantity=10)
    session = open_session()
    ledger_cleared()

    response = dispense(client, session, rx, 11, "k1")

    assert response.status_code == 409
    assert response.json()["type"] == "/api/problems/quantity-exceeded"
    assert entries() == [("pharmacy.dispensations.create", agency.code, DISPENSING, "denied")]
    assert not Dispensation.objects.exists()


def test_a_repeated_request_with_the_same_idempotency_key_dispenses_once(pharmacy, card, open_session):
    rx = prescription(card.resident)
    session = open_session()

    first = dispense(pharmacy[1], session, rx, 10, "same-key")
    again = dispense(pharmacy[1], session, rx, 10, "same-key")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Dispensation.objects.count() == 1


def test_dispensing_without_an_idempotency_key_is_refused(pharmacy, card, open_session):
    rx = prescription(card.resident)
    session = open_session()

    response = pharmacy[1].post(
        "/api/v1/pharmacy/dispensations",
        {"session": session, "prescription": rx.pk, "quantity": 1, "price": "1.00"},
        format="json",
    )

    assert response.status_code == 428
    assert response.json()["type"] == "/api/problems/idempotency-key-required"


def test_an_uninsured_resident_pays_the_whole_price(pharmacy):
    from tests.factories.cards import CardFactory

    card = CardFactory()
    rx = prescription(card.resident)
    session = pharmacy[1].post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json").json()

    response = dispense(pharmacy[1], session["session"], rx, 10, "k1", price="55.50")

    assert session["co_pay_rate"] == "1.000"
    assert (response.json()["insured_share"], response.json()["resident_share"]) == ("0.00", "55.50")
    assert Dispensation.objects.get().price == Decimal("55.50")


def test_another_residents_prescription_is_not_found(pharmacy, card, open_session):
    from tests.factories import ResidentFactory

    someone_else = prescription(ResidentFactory())

    response = dispense(pharmacy[1], open_session(), someone_else, 1, "k1")

    assert response.status_code == 404
    assert response.json()["type"] == "/api/problems/prescription-unknown"


def test_another_pharmacys_session_cannot_be_used(card, open_session):
    from tests.factories.pharmacy import pharmacy_with_client

    rx = prescription(card.resident)
    session = open_session()
    _other, other_client = pharmacy_with_client()

    response = dispense(other_client, session, rx, 1, "k1")

    assert response.status_code == 409
    assert response.json()["type"] == "/api/problems/session-invalid"


def test_an_expired_session_cannot_be_used(pharmacy, card, open_session, monkeypatch):
    rx = prescription(card.resident)
    session = open_session()
    later = timezone.now() + datetime.timedelta(minutes=15)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = dispense(pharmacy[1], session, rx, 1, "k1")

    assert response.status_code == 409
    assert response.json()["type"] == "/api/problems/session-invalid"


def test_a_malformed_traceability_code_is_a_validation_problem(pharmacy, card, open_session):
    rx = prescription(card.resident)

    response = dispense(pharmacy[1], open_session(), rx, 1, "k1", traceability_codes=["1234"])

    assert response.status_code == 400
    assert response.json()["type"] == "/api/problems/invalid-request"
    assert not Dispensation.objects.exists()
