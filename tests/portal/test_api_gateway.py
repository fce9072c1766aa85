"""The gateway's authorisation matrix, problem details and ledger records."""

import datetime
import re
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ledger.api import Actor, access_context, subject_pseudonym
from ledger.models import PendingEntry
from services.core.actions import agency_key_issue, agency_key_revoke, consent_grant
from services.core.catalogue import purposes_all as catalogue_purposes_all
from services.core.catalogue import scopes_all
from tests.cards.test_credentials import static_token
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import agency_with_key
from tests.ledger.database import pending_discard

VERIFY_SCOPE = "residents:verify"
PURPOSE = "identity-verification"


def problem_type(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == response.status_code
    assert "Traceback" not in response.content.decode()
    return body["type"].removeprefix("/api/problems/")


def grant_consent(resident, agency, scope=VERIFY_SCOPE, purpose=PURPOSE, **kwargs):
    with access_context(actor=Actor(type="resident", id="test"), role="resident", channel="web"):
        return consent_grant(resident=resident, agency=agency, scope=scope, purpose=purpose, **kwargs)


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def world():
    """A resident, a bank holding every scope it needs with a key, and the resident's consent to the bank."""
    resident = ResidentFactory(full_name="李伟")
    agency, key = agency_with_key(scopes=[VERIFY_SCOPE, "cards:verify"], purposes=[PURPOSE])
    grant_consent(resident, agency)
    token = static_token(CardFactory(resident=resident))
    pending_discard()
    return {"resident": resident, "agency": agency, "key": key, "card_token": token}


def endpoints(world) -> list[tuple[str, str, dict, str | None]]:
    """Return (method, path, body, required scope) for every partner endpoint."""
    resident = world["resident"]
    return [
        ("get", "/api/v1/agency", {}, None),
        ("get", "/api/v1/consents", {}, None),
        (
            "post",
            "/api/v1/residents/verify",
            {"national_id": resident.national_id, "full_name": resident.full_name},
            VERIFY_SCOPE,
        ),
        ("post", "/api/v1/cards/verify", {"token": world["card_token"]}, "cards:verify"),
    ]


def send(client, method, path, body, *, key=None, purpose=PURPOSE, **headers):
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    if purpose is not None:
        headers["HTTP_X_PURPOSE"] = purpose
    if method == "post":
        return client.post(path, body, format="json", **headers)
    return client.get(path, **headers)


ENDPOINT_IDS = ["agency", "consents", "residents-verify", "cards-verify"]


def _gateway_routes() -> list[tuple[str, str, str | None]]:
    """Return (method, path, required scope) for every partner endpoint the URL resolver mounts."""
    from django.urls import URLResolver, get_resolver

    from services.core.api.base import GatewayAPIView

    samples = {"int": "1", "uuid": str(uuid.UUID(int=1)), "str": "x", "slug": "x", "path": "x"}

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), getattr(pattern.callback, "cls", None)

    routes = []
    for route, view in walk(get_resolver().url_patterns, "/"):
        if view is None or not issubclass(view, GatewayAPIView):
            continue
        path = re.sub(r"<(?:(\w+):)?\w+>", lambda match: samples[match.group(1) or "str"], route)
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                routes.append((method, path, view.required_scope))
    return routes


GATEWAY_ROUTES = _gateway_routes()
ROUTE_IDS = [f"{method} {path}" for method, path, _scope in GATEWAY_ROUTES]


def test_the_matrix_covers_every_service_of_the_gateway():
    paths = {path for _method, path, _scope in GATEWAY_ROUTES}

    assert len(GATEWAY_ROUTES) >= 20
    for prefix in (
        "checks",
        "agency",
        "residents",
        "cards",
        "ledger",
        "social-security",
        "health",
        "pharmacy",
        "grants",
    ):
        assert any(path.startswith(f"/api/v1/{prefix}") for path in paths), prefix


def holder(scope: str | None):
    """Return an agency holding SCOPE (if any) and a purpose allowed for it, with its key and that purpose."""
    purpose = scopes_all()[scope].purposes[0] if scope else PURPOSE
    agency, key = agency_with_key(scopes=[scope] if scope else [], purposes=[purpose])
    return agency, key, purpose


def send_to(client, method, path, *, key=None, purpose=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    if purpose is not None:
        headers["HTTP_X_PURPOSE"] = purpose
    return getattr(client, method)(path, {}, format="json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "scope"), GATEWAY_ROUTES, ids=ROUTE_IDS)
def test_a_call_without_a_key_is_401(client, method, path, scope):
    response = send_to(client, method, path, purpose=PURPOSE)

    assert response.status_code == 401
    assert problem_type(response) == "credentials-missing"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "scope"), GATEWAY_ROUTES, ids=ROUTE_IDS)
def test_a_call_with_a_wrong_key_is_401(client, method, path, scope):
    _agency, key, purpose = holder(scope)
    prefix = key.split(".")[0]

    response = send_to(client, method, path, key=f"{prefix}.not-the-secret", purpose=purpose)

    assert response.status_code == 401
    assert problem_type(response) == "credentials-invalid"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "scope"), GATEWAY_ROUTES, ids=ROUTE_IDS)
def test_a_call_with_a_revoked_key_is_401(client, method, path, scope):
    agency, key, purpose = holder(scope)
    agency_key_revoke(key=agency.keys.get())

    response = send_to(client, method, path, key=key, purpose=purpose)

    assert response.status_code == 401
    assert problem_type(response) == "credentials-revoked"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "scope"), GATEWAY_ROUTES, ids=ROUTE_IDS)
def test_a_call_with_an_expired_key_is_401(client, method, path, scope):
    agency, _key, purpose = holder(scope)
    _expired, secret = agency_key_issue(
        agency=agency, name="old", expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = send_to(client, method, path, key=secret, purpose=purpose)

    assert response.status_code == 401
    assert problem_type(response) == "credentials-expired"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [r for r in GATEWAY_ROUTES if r[2]],
    ids=[route_id for route_id, route in zip(ROUTE_IDS, GATEWAY_ROUTES, strict=True) if route[2]],
)
def test_a_call_without_the_scope_is_403(client, method, path, scope):
    purpose = scopes_all()[scope].purposes[0]
    _agency, key = agency_with_key(scopes=[], purposes=[purpose])

    response = send_to(client, method, path, key=key, purpose=purpose)

    assert response.status_code == 403
    assert problem_type(response) == "scope-missing"
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "scope"), GATEWAY_ROUTES, ids=ROUTE_IDS)
def test_a_call_without_a_purpose_is_400(client, method, path, scope):
    _agency, key, _purpose = holder(scope)

    response = send_to(client, method, path, key=key)

    assert response.status_code == 400
    assert problem_type(response) == "purpose-required"
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("other", ["granted-elsewhere", "curiosity"])
@pytest.mark.parametrize(("method", "path", "scope"), GATEWAY_ROUTES, ids=ROUTE_IDS)
def test_a_call_for_a_purpose_not_granted_is_403(client, method, path, scope, other):
    _agency, key, purpose = holder(scope)
    if other == "granted-elsewhere":
        other = next(code for code in catalogue_purposes_all() if code != purpose)

    response = send_to(client, method, path, key=key, purpose=other)

    assert response.status_code == 403
    assert problem_type(response) == "purpose-not-allowed"
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_purpose_granted_but_not_allowed_for_the_scope_is_403(client, world):
    _agency, key = agency_with_key(scopes=[VERIFY_SCOPE], purposes=["drug-dispensing"])
    method, path, body, _scope = endpoints(world)[2]

    response = send(client, method, path, body, key=key, purpose="drug-dispensing")

    assert response.status_code == 403
    assert "does not allow the scope" in response.json()["detail"]


@pytest.mark.django_db
def test_verify_without_consent_is_403_and_recorded_as_denied(client, world):
    _method, path, body, _scope = endpoints(world)[2]
    other, key = agency_with_key(scopes=[VERIFY_SCOPE], purposes=[PURPOSE])

    response = send(client, "post", path, body, key=key)

    assert response.status_code == 403
    assert problem_type(response) == "consent-missing"
    row = PendingEntry.objects.get()
    assert (row.action, row.actor_type, row.actor_id, row.outcome) == (
        "services.residents.verify",
        "agency",
        other.code,
        "denied",
    )


@pytest.mark.django_db
def test_verify_with_revoked_or_expired_consent_is_403(client, world):
    _method, path, body, _scope = endpoints(world)[2]
    agency, key = agency_with_key(scopes=[VERIFY_SCOPE], purposes=[PURPOSE])
    expired = grant_consent(world["resident"], agency)
    expired.granted_at = timezone.now() - datetime.timedelta(days=2)
    expired.expires_at = timezone.now() - datetime.timedelta(days=1)
    expired.save()

    response = send(client, "post", path, body, key=key)

    assert problem_type(response) == "consent-missing"


@pytest.mark.django_db
def test_verify_of_an_unregistered_resident_looks_like_no_consent(client, world):
    from tests.idnumbers import make_national_id

    response = send(
        client,
        "post",
        "/api/v1/residents/verify",
        {"national_id": make_national_id(birth="19700101", sequence=999), "full_name": "Nobody"},
        key=world["key"],
    )

    assert problem_type(response) == "consent-missing"
    # Refused with the same work as a registered resident without consent: one denied entry, for no resident.
    entry = PendingEntry.objects.get()
    assert (entry.action, entry.outcome) == ("services.residents.verify", "denied")
    assert entry.subject != subject_pseudonym(world["resident"])


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(len(ENDPOINT_IDS)), ids=ENDPOINT_IDS)
def test_a_right_call_succeeds(client, world, index):
    method, path, body, _scope = endpoints(world)[index]

    response = send(client, method, path, body, key=world["key"])

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_agency_reports_the_callers_grants(client, world):
    response = send(client, "get", "/api/v1/agency", {}, key=world["key"])

    body = response.json()
    assert body["code"] == world["agency"].code
    assert body["kind"] == "bank"
    assert sorted(body["scopes"]) == ["cards:verify", VERIFY_SCOPE]
    assert body["purposes"] == [PURPOSE]
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_verify_records_one_entry_with_agency_purpose_and_case(client, world):
    _method, path, body, _scope = endpoints(world)[2]

    response = send(client, "post", path, body, key=world["key"], HTTP_X_CASE_ID="KYC-2026-0042")

    assert response.json() == {"match": True}
    rows = list(PendingEntry.objects.values_list("action", "actor_type", "actor_id", "role", "channel", "purpose"))
    assert rows == [("services.residents.verify", "agency", world["agency"].code, "bank", "api", PURPOSE)]
    row = PendingEntry.objects.get()
    assert (row.case_id, row.object, row.outcome) == ("KYC-2026-0042", "match", "ok")


@pytest.mark.django_db
def test_verify_answers_false_for_another_name(client, world):
    body = {"national_id": world["resident"].national_id, "full_name": "王芳"}

    response = send(client, "post", "/api/v1/residents/verify", body, key=world["key"])

    assert response.json() == {"match": False}
    assert PendingEntry.objects.get().object == "mismatch"


@pytest.mark.django_db
def test_verify_of_a_malformed_national_id_is_400(client, world):
    body = {"national_id": "11010519900307123", "full_name": "李伟"}

    response = send(client, "post", "/api/v1/residents/verify", body, key=world["key"])

    assert response.status_code == 400
    assert problem_type(response) == "national-id-invalid"
    assert "18 characters" in response.json()["detail"]
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_malformed_case_id_is_400(client, world):
    response = send(client, "get", "/api/v1/agency", {}, key=world["key"], HTTP_X_CASE_ID="bad case id!")

    assert problem_type(response) == "case-id-invalid"


@pytest.mark.django_db
def test_a_suspended_agency_is_403(client, world):
    world["agency"].is_active = False
    world["agency"].save()

    response = send(client, "get", "/api/v1/agency", {}, key=world["key"])

    assert response.status_code == 403
    assert problem_type(response) == "agency-suspended"
