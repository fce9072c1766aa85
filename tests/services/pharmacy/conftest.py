import pytest
from django.utils import timezone

from tests.factories.cards import CardFactory
from tests.factories.pharmacy import pharmacy_with_client, qr_token
from tests.factories.services import contribute, employer
from tests.ledger.database import pending_discard


@pytest.fixture
def pharmacy():
    return pharmacy_with_client()


@pytest.fixture
def card():
    """An active card of a resident insured this month."""
    card = CardFactory()
    contribute(card.resident, employer(), timezone.localdate().replace(day=1), 1, insurances=["medical"])
    return card


@pytest.fixture
def open_session(pharmacy, card):
    """Open a session at PHARMACY for CARD's resident and return a function doing it again."""

    def open_(client=None):
        response = (client or pharmacy[1]).post("/api/v1/pharmacy/sessions", {"token": qr_token(card)}, format="json")
        assert response.status_code == 201, response.content
        return response.json()["session"]

    return open_


@pytest.fixture
def ledger_cleared():
    def clear():
        pending_discard()

    return clear
