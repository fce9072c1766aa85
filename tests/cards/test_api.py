"""POST /api/v1/cards/verify through the real gateway: key, purpose, scope, ledger."""

import pytest
from rest_framework.test import APIClient

from ledger.models import PendingEntry
from tests.cards.test_credentials import static_token
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.ledger.database import pending_discard

pytestmark = pytest.mark.django_db


@pytest.fixture
def pharmacy():
    agency, key = agency_with_key(scopes=["cards:verify"], purposes=["identity-verification"], kind="pharmacy")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE="identity-verification")
    return agency, client


def test_verify_returns_the_verification(pharmacy):
    _agency, client = pharmacy
    card = CardFactory()

    response = client.post("/api/v1/cards/verify", {"token": static_token(card)}, format="json")

    assert response.status_code == 200
    assert response.json() == {"valid": True, "card_number": card.number, "status": "active", "reason": None}


def test_verify_records_one_entry_under_the_agency_and_purpose(pharmacy):
    agency, client = pharmacy
    token = static_token(CardFactory())
    pending_discard()

    client.post("/api/v1/cards/verify", {"token": token}, format="json", HTTP_X_CASE_ID="till-7")

    entry = PendingEntry.objects.get()
    assert (entry.action, entry.actor_type, entry.actor_id) == ("cards.credentials.verify", "agency", agency.code)
    assert (entry.role, entry.channel, entry.purpose, entry.case_id) == (
        "pharmacy",
        "api",
        "identity-verification",
        "till-7",
    )


def test_verify_answers_a_bad_token_with_valid_false(pharmacy):
    _agency, client = pharmacy

    response = client.post("/api/v1/cards/verify", {"token": "eyJhbGciOiJub25lIn0.e30."}, format="json")

    assert response.status_code == 200
    assert response.json()["valid"] is False and response.json()["reason"] == "unsupported_algorithm"


@pytest.mark.parametrize("data", [{}, {"token": ["a"]}, {"token": "x" * 9000}])
def test_verify_answers_malformed_input_with_a_400_problem(pharmacy, data):
    _agency, client = pharmacy

    response = client.post("/api/v1/cards/verify", data, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_verify_without_the_scope_is_403():
    _agency, key = agency_with_key(scopes=[], purposes=["identity-verification"])
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE="identity-verification")

    response = client.post("/api/v1/cards/verify", {"token": "x"}, format="json")

    assert response.status_code == 403


def test_verify_answers_a_503_problem_and_records_nothing_when_redis_is_unreachable(pharmacy, settings):
    _agency, client = pharmacy
    card = CardFactory()
    # Nothing listens on port 1: the throttle's cache read fails to connect.
    settings.CACHES = {"default": {"BACKEND": "services.core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}

    response = client.post("/api/v1/cards/verify", {"token": static_token(card)}, format="json")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/problems/service-unavailable"
    assert response["Retry-After"] == "5"
    assert not PendingEntry.objects.filter(channel="api").exists()
