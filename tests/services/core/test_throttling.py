"""The per-agency limit: a burst of N, then one per period / N, atomic on Redis across processes and threads."""

import threading
import uuid

import pytest
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from services.core.api.throttling import _rate_take_local
from services.core.cache import RedisCache
from tests.factories.core import agency_with_key
from tests.portal.test_api_gateway import PURPOSE


@pytest.fixture
def redis_cache(settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: these tests need a real Redis")
    backend = caches[DEFAULT_CACHE_ALIAS]
    assert isinstance(backend, RedisCache)
    return backend


def _key() -> str:
    return f"throttle_test_{uuid.uuid4().hex}"


def test_redis_limit_allows_a_burst_then_refuses_with_the_interval_to_wait(redis_cache):
    key = _key()

    waits = [redis_cache.rate_take(key, interval=20.0, period=60.0) for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 19.0 < waits[3] <= 20.0
    redis_cache.delete(key)


def test_a_refused_request_does_not_use_up_the_limit(redis_cache):
    key = _key()
    redis_cache.rate_take(key, interval=30.0, period=60.0)
    redis_cache.rate_take(key, interval=30.0, period=60.0)

    refusals = [redis_cache.rate_take(key, interval=30.0, period=60.0) for _ in range(5)]

    # Had the refusals counted, each would have pushed the next wait 30 s further out.
    assert all(29.0 < wait <= 30.0 for wait in refusals)
    redis_cache.delete(key)


def test_redis_limit_is_atomic_under_concurrent_requests(redis_cache):
    key = _key()
    waits = []
    start = threading.Barrier(24)

    def take():
        start.wait()
        waits.append(redis_cache.rate_take(key, interval=12.0, period=60.0))

    threads = [threading.Thread(target=take) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Five fit in a minute at one per 12 s; a read-then-write limiter lets more through.
    assert sum(wait == 0 for wait in waits) == 5
    redis_cache.delete(key)


def test_the_cache_reuses_one_redis_client(redis_cache):
    assert redis_cache._cache.get_client("a", write=True) is redis_cache._cache.get_client("b", write=True)


def test_local_limit_has_the_same_rule():
    backend = LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    key = _key()

    waits = [_rate_take_local(backend, key, interval=20.0, period=60.0) for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 19.0 < waits[3] <= 20.0


def test_a_shortened_period_does_not_carry_the_old_backlog(redis_cache):
    key = _key()
    # A day's worth at 10,000/day, then the agency's limit becomes 600/min.
    for _ in range(50):
        redis_cache.rate_take(key, interval=86400 / 10_000, period=86400.0)

    wait = redis_cache.rate_take(key, interval=0.1, period=60.0)

    assert wait <= 0.1
    redis_cache.delete(key)


def test_the_local_limit_ignores_a_value_it_did_not_write():
    backend = LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    key = _key()
    backend.set(key, [1.0, 2.0])

    assert _rate_take_local(backend, key, interval=20.0, period=60.0) == 0.0


@pytest.mark.django_db
def test_a_zero_rate_refuses_every_request():
    agency, key = agency_with_key(purposes=[PURPOSE], code=f"z-{uuid.uuid4().hex[:8]}", throttle_rate="0/min")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE=PURPOSE)

    response = client.get("/api/v1/agency")

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
