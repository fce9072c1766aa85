import json
import uuid

import pytest
from rest_framework.test import APIClient

from services.matching.tools import onecard_match as tool
from tests.factories.core import agency_with_key

PURPOSE = "benefit-eligibility"
SCOPES = ["matching:active-card", "matching:insured-months", "matching:grant-recipient"]


class ClientGateway:
    """The partner tool's gateway, speaking to the API through Django's test client instead of a socket."""

    def __init__(self, client: APIClient) -> None:
        self.client = client
        self.calls: list[tuple[str, int]] = []

    def post(self, path: str, body: dict) -> dict:
        response = self.client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        self.calls.append((path, response.status_code))
        if response.status_code >= 400:
            problem = json.loads(response.content)
            raise tool.Refused(f"{response.status_code} {problem['type']}: {problem['detail']}")
        return response.json()


def api_client(key: str, purpose: str = PURPOSE) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE=purpose)
    return client


@pytest.fixture
def partner():
    """A government body holding every matching scope for benefit eligibility, and its gateway."""
    agency, key = agency_with_key(kind="government", scopes=SCOPES, purposes=[PURPOSE])
    return agency, ClientGateway(api_client(key))
