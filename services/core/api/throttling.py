"""Per-agency request limits on the Django cache (Redis in production, local memory in the embedded default)."""

import threading
import time

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework.throttling import SimpleRateThrottle

from services.core.api.authentication import AgencyPrincipal
from services.core.cache import RedisCache

_local_lock = threading.Lock()


class AgencyRateThrottle(SimpleRateThrottle):
    """Limit each agency to its own rate, or the default ``agency`` rate from settings.

    A rate of N per period lets an agency make N requests at once and then one
    every period / N seconds (GCRA). One number per agency is kept, so a check
    costs the same at 10 requests a minute as at 100,000; DRF's own throttle
    stores and rewrites the time of every request in the period. On Redis the
    check is one atomic round trip.
    """

    scope = "agency"
    # Not DRF's "throttle_…" keys: those hold a pickled list of times, which an
    # older process (a rolling deploy, a rollback) would fail to read from here.
    cache_format = "ratelimit_%(scope)s_%(ident)s"

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if isinstance(principal, AgencyPrincipal) and principal.agency.throttle_rate:
            self.rate = principal.agency.throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.num_requests <= 0:
            # "0/min" stops an agency altogether.
            self._wait = float(self.duration)
            return False
        interval = self.duration / self.num_requests
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            self._wait = backend.rate_take(self.key, interval=interval, period=self.duration)
        else:
            self._wait = _rate_take_local(backend, self.key, interval=interval, period=self.duration)
        return self._wait <= 0

    def wait(self) -> float:
        return self._wait

    def get_cache_key(self, request, view) -> str:
        principal = request.user
        if isinstance(principal, AgencyPrincipal):
            ident = f"agency:{principal.agency.code}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _rate_take_local(backend, key: str, *, interval: float, period: float) -> float:
    """The same GCRA step for the embedded default's local-memory cache.

    Atomic within one process only, which is all local memory is shared by;
    production settings use services.core.cache.RedisCache.
    """
    with _local_lock:
        now = time.time()
        stored = backend.get(key)
        due = stored if isinstance(stored, float) else now
        arrival = min(max(due, now), now + period) + interval
        wait = arrival - period - now
        if wait > 0:
            return wait
        backend.set(key, arrival, timeout=arrival - now + 1)
        return 0.0
