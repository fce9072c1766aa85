import pytest

from tests.factories.portal import resident_with_account, sign_in


@pytest.fixture(autouse=True)
def _cache_cleared():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def resident_a(db):
    return resident_with_account()


@pytest.fixture
def resident_b(db):
    return resident_with_account()


@pytest.fixture
def client_a(client, resident_a):
    user, _resident, _card, device = resident_a
    sign_in(client, user, device)
    return client


@pytest.fixture
def ledger_rows():
    """Return a function listing the (action, actor type, role, channel, purpose, outcome) recorded since the mark."""
    from ledger.models import PendingEntry

    mark = PendingEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def rows():
        return list(
            PendingEntry.objects.filter(id__gt=mark)
            .order_by("id")
            .values_list("action", "actor_type", "role", "channel", "purpose", "outcome")
        )

    return rows
