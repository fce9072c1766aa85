import pytest

from ledger.api import Actor, access_context


@pytest.fixture
def caseworker_context():
    """Open an access context as a caseworker in the admin."""
    with access_context(
        actor=Actor(type="staff", id="test-caseworker"),
        role="caseworker",
        channel="admin",
        purpose="card-administration",
    ) as context:
        yield context


@pytest.fixture
def pharmacy_context():
    """Open an access context as a pharmacy verifying a card through the API."""
    with access_context(
        actor=Actor(type="agency", id="PHARM01"), role="pharmacy", channel="api", purpose="identity-verification"
    ) as context:
        yield context
