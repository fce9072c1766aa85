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


@pytest.fixture(autouse=True)
def _cache_cleared():
    """Start each test with an empty cache: the status list and printable images are cached."""
    from django.core.cache import cache

    cache.clear()
