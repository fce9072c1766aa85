import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from cards.api.views import CardVerifyView
from tests.cards.test_credentials import static_token
from tests.factories import UserFactory
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def post(data, fmt="json"):
    request = APIRequestFactory().post("/api/v1/cards/verify", data, format=fmt)
    force_authenticate(request, user=UserFactory())
    return CardVerifyView.as_view()(request)


def test_view_declares_its_scope():
    assert CardVerifyView.required_scope == "cards:verify"


def test_view_returns_the_verification(pharmacy_context):
    card = CardFactory()
    token = static_token(card)

    response = post({"token": token})

    assert response.status_code == 200
    assert response.data == {"valid": True, "card_number": card.number, "status": "active", "reason": None}


def test_view_answers_a_bad_token_with_valid_false(pharmacy_context):
    response = post({"token": "eyJhbGciOiJub25lIn0.e30."})

    assert response.status_code == 200
    assert response.data["valid"] is False and response.data["reason"] == "unsupported_algorithm"


@pytest.mark.parametrize("data", [{}, {"token": ["a"]}, {"token": "x" * 9000}])
def test_view_answers_malformed_input_with_400(pharmacy_context, data):
    assert post(data).status_code == 400
