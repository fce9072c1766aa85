"""PostgreSQL or Redis down: a clean 503 with Retry-After, never a 500 (production mode, DEBUG off)."""

import socket

import pytest
from django.db import connections

from tests.factories.portal import resident_with_account, sign_in


def closed_port() -> int:
    """Return a local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def production(settings, client):
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


@pytest.fixture
def database_down(db):
    """Point Django's default database at one that cannot be reached, for the code under test."""
    working = connections["default"]
    unreachable = connections.create_connection("default")
    if unreachable.vendor == "sqlite":
        unreachable.settings_dict = {**unreachable.settings_dict, "NAME": "/nonexistent/onecard/db.sqlite3"}
    else:
        unreachable.settings_dict = {**unreachable.settings_dict, "HOST": "127.0.0.1", "PORT": closed_port()}
    connections["default"] = unreachable
    yield
    connections["default"] = working


@pytest.fixture
def redis_down(settings):
    """Use a Redis URL on a closed port for the cache and the sessions, as production does with Redis."""
    settings.CACHES = {
        "default": {"BACKEND": "services.core.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{closed_port()}/4"}
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.mark.parametrize("path", ["/ledger/checkpoint", "/.well-known/jwks.json", "/cards/status"])
def test_a_public_endpoint_is_503_with_retry_after_while_the_database_is_down(production, database_down, path):
    response = production.get(path)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/problems/service-unavailable"


@pytest.mark.django_db
def test_an_api_call_is_503_while_the_database_is_down(production, database_down):
    response = production.post(
        "/api/v1/cards/verify", {"token": "x"}, content_type="application/json", HTTP_AUTHORIZATION="Bearer a.b"
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_the_login_page_still_opens_while_redis_is_down(production, redis_down):
    response = production.get("/login/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200


@pytest.mark.django_db
def test_signing_in_is_a_readable_503_while_redis_is_down(production, redis_down):
    user, _resident, _card, _device = resident_with_account()

    response = production.post(
        "/login/",
        {"username": user.username, "password": "correct-horse-battery"},
        HTTP_ACCEPT="text/html,application/xhtml+xml",
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "OneCard is briefly unavailable" in response.content.decode()


@pytest.mark.django_db
def test_a_signed_in_page_is_a_readable_503_while_redis_is_down(production, settings):
    user, _resident, _card, device = resident_with_account()
    sign_in(production, user, device)
    settings.CACHES = {
        "default": {"BACKEND": "services.core.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{closed_port()}/4"}
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

    response = production.get("/me/card/", HTTP_ACCEPT="text/html")

    assert response.status_code == 503
    assert "OneCard is briefly unavailable" in response.content.decode()
