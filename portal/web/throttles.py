"""Limit how often a client, or anyone for one national ID or account, may try an activation or invitation code."""

from axes.helpers import get_client_ip_address
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from cards.crypto import national_id_lookup_hash


class _KeyedThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle over the cache, for a plain Django view and a key of our choosing."""

    def __init__(self, *, key: str, rate: str) -> None:
        self.key = key
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)

    def get_cache_key(self, request, view):
        return self.key


def activation_attempt_allowed(request, *, national_id: str) -> bool:
    """Count one activation attempt; return False when this client or this national ID has tried too often."""
    throttles = [
        _KeyedThrottle(
            key=f"onecard:activation:client:{get_client_ip_address(request)}",
            rate=settings.ONECARD_ACTIVATION_RATE_PER_CLIENT,
        ),
        # Keyed by the lookup hash: the cache holds no national ID.
        _KeyedThrottle(
            key=f"onecard:activation:national-id:{national_id_lookup_hash(national_id)}",
            rate=settings.ONECARD_ACTIVATION_RATE_PER_NATIONAL_ID,
        ),
    ]
    # Every throttle counts the attempt, so a client spreading tries over IDs is still counted per ID.
    return all([throttle.allow_request(request, None) for throttle in throttles])


def proxy_accept_attempt_allowed(request, *, resident) -> bool:
    """Count one try of a family invitation code; return False when this client or RESIDENT has tried too often."""
    throttles = [
        _KeyedThrottle(
            key=f"onecard:proxy-accept:client:{get_client_ip_address(request)}",
            rate=settings.ONECARD_PROXY_ACCEPT_RATE_PER_CLIENT,
        ),
        _KeyedThrottle(
            key=f"onecard:proxy-accept:resident:{resident.pk}", rate=settings.ONECARD_PROXY_ACCEPT_RATE_PER_RESIDENT
        ),
    ]
    # Every throttle counts the try: a resident moving between addresses is still counted, and so is a client
    # moving between accounts.
    return all([throttle.allow_request(request, None) for throttle in throttles])
