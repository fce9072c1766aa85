import pytest

from ledger.api import Actor, access_context


@pytest.fixture
def statistician():
    """Open the access context the publish command opens."""
    with access_context(
        actor=Actor(type="system", id="statistics.publish"),
        role="system",
        channel="command",
        purpose="official-statistics",
    ) as context:
        yield context
