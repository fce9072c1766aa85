"""The /healthz endpoint: one JSON answer a load balancer can act on."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ledger.api import ledger_health

logger = logging.getLogger("onecard.health")

# Short timeouts: a probe that hangs is worse for a load balancer than one that fails.
REDIS_TIMEOUT_SECONDS = 1.0
_redis_clients: dict[str, object] = {}


def database_check() -> dict:
    """Return whether the default database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "vendor": connection.vendor}


def redis_check() -> dict:
    """Return whether Redis (broker, cache and throttles) answers a PING."""
    import redis

    client = _redis_clients.get(settings.REDIS_URL)
    if client is None:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        _redis_clients[settings.REDIS_URL] = client
    try:
        client.ping()
    except redis.RedisError as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def health_report() -> dict:
    """Return every check; the ledger checks are skipped when the database is down."""
    checks = {"database": database_check()}
    if settings.REDIS_URL:
        checks["redis"] = redis_check()
    if checks["database"]["ok"]:
        try:
            checks |= ledger_health(
                max_lag_seconds=settings.ONECARD_HEALTH_MAX_SEQUENCER_LAG_SECONDS,
                max_verification_age_seconds=settings.ONECARD_HEALTH_MAX_VERIFICATION_AGE_SECONDS,
                max_publication_lag_seconds=settings.ONECARD_HEALTH_MAX_PUBLICATION_LAG_SECONDS,
            )
        except DatabaseError as error:
            checks["database"] = {"ok": False, "error": type(error).__name__}
    failing = sorted(name for name, check in checks.items() if not check["ok"])
    return {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}


@never_cache
@require_GET
def healthz(request):
    """Answer 200 when every check passes and 503 naming the failing ones otherwise."""
    report = health_report()
    if report["failing"]:
        logger.warning("health check failing: %s", ", ".join(report["failing"]))
    return JsonResponse(report, status=503 if report["failing"] else 200)
