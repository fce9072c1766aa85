"""Every error under /api/ is problem+json with a stable type; idempotency, throttling and pagination."""

import datetime
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from ledger.models import PendingEntry
from services.core.models import IdempotentRequest
from tests.factories import ResidentFactory
from tests.factories.core import agency_with_key
from tests.ledger.database import pending_discard
from tests.portal.test_api_gateway import PURPOSE, VERIFY_SCOPE, grant_consent, problem_type


@pytest.fixture
def bank():
    resident = ResidentFactory(full_name="李伟")
    agency, key = agency_with_key(scopes=[VERIFY_SCOPE], purposes=[PURPOSE])
    grant_consent(resident, agency)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE=PURPOSE)
    return {"client": client, "agency": agency, "resident": resident, "key": key}


def verify_body(resident, name=None):
    return {"national_id": resident.national_id, "full_name": name or resident.full_name}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/nothing", "/api/problems/no-such-problem"])
def test_unknown_api_addresses_are_404_problems(bank, path):
    response = bank["client"].get(path)

    assert response.status_code == 404
    assert problem_type(response) == "not-found"


@pytest.mark.django_db
def test_a_wrong_method_is_405(bank):
    response = bank["client"].delete("/api/v1/agency")

    assert response.status_code == 405
    assert problem_type(response) == "method-not-allowed"


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_415(bank):
    response = bank["client"].post("/api/v1/residents/verify", "national_id=1", content_type="text/plain")

    assert response.status_code == 415
    assert problem_type(response) == "unsupported-media-type"


@pytest.mark.django_db
def test_broken_json_is_400(bank):
    response = bank["client"].post("/api/v1/residents/verify", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"


@pytest.mark.django_db
def test_missing_fields_are_400_with_a_pointer_for_each(bank):
    response = bank["client"].post("/api/v1/residents/verify", {}, format="json")

    assert response.status_code == 400
    assert problem_type(response) == "invalid-request"
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/national_id", "#/full_name"}


@pytest.mark.django_db
def test_a_server_error_is_a_500_problem_without_a_stack_trace(bank, settings):
    settings.ROOT_URLCONF = "tests.portal.failing_urls"

    response = bank["client"].get("/api/v1/fail")

    assert response.status_code == 500
    assert problem_type(response) == "server-error"
    assert "secret internal detail" not in response.content.decode()


def test_every_problem_type_is_described_at_its_uri(client):
    from services.core.api.problems import PROBLEMS

    for slug, problem in PROBLEMS.items():
        response = client.get(f"/api/problems/{slug}")

        assert response.json() == {
            "type": f"/api/problems/{slug}",
            "title": problem.title,
            "status": problem.status_code,
        }


@pytest.mark.django_db
def test_a_repeated_post_with_the_same_key_replays_the_first_response(bank):
    body = verify_body(bank["resident"])

    first = bank["client"].post("/api/v1/residents/verify", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = bank["client"].post("/api/v1/residents/verify", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    # The replay showed the answer again, so it is recorded again, marked as a replay.
    objects = list(PendingEntry.objects.filter(action="services.residents.verify").values_list("object", flat=True))
    assert objects == ["match", "replay:match"]


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(bank):
    bank["client"].post(
        "/api/v1/residents/verify", verify_body(bank["resident"]), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )

    response = bank["client"].post(
        "/api/v1/residents/verify", verify_body(bank["resident"], "王芳"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )

    assert response.status_code == 422
    assert problem_type(response) == "idempotency-key-reused"


@pytest.mark.django_db
def test_a_key_whose_first_request_is_unfinished_is_409(bank):
    from services.core.api.base import _fingerprint

    body = verify_body(bank["resident"])
    IdempotentRequest.objects.create(
        agency=bank["agency"],
        key="k-3",
        method="POST",
        path="/api/v1/residents/verify",
        fingerprint=_fingerprint(APIClient()._encode_data(body, format="json")[0], purpose=PURPOSE, case_id=None),
    )

    response = bank["client"].post("/api/v1/residents/verify", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 409
    assert problem_type(response) == "idempotency-key-in-flight"


@pytest.mark.django_db
def test_idempotency_keys_are_per_agency(bank):
    other, key = agency_with_key(scopes=[VERIFY_SCOPE], purposes=[PURPOSE])
    grant_consent(bank["resident"], other)
    body = verify_body(bank["resident"])
    bank["client"].post("/api/v1/residents/verify", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    response = APIClient().post(
        "/api/v1/residents/verify",
        body,
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_X_PURPOSE=PURPOSE,
        HTTP_IDEMPOTENCY_KEY="shared",
    )

    assert "Idempotent-Replayed" not in response
    assert IdempotentRequest.objects.count() == 2


@pytest.mark.django_db
def test_consents_are_listed_a_cursor_page_at_a_time_and_recorded(bank):
    for _ in range(3):
        grant_consent(ResidentFactory(), bank["agency"])
    pending_discard()

    first = bank["client"].get("/api/v1/consents?page_size=2").json()
    second = bank["client"].get(first["next"]).json()

    assert len(first["results"]) == 2 and len(second["results"]) == 2
    assert second["next"] is None
    receipts = {c["receipt_id"] for c in first["results"] + second["results"]}
    assert len(receipts) == 4
    assert PendingEntry.objects.filter(action="services.consents.list").count() == 4


@pytest.mark.django_db
def test_consents_filter_by_scope_and_activity(bank):
    response = bank["client"].get(f"/api/v1/consents?scope={VERIFY_SCOPE}&active=false")

    assert response.json()["results"] == []


@pytest.mark.django_db
def test_a_bad_filter_is_400(bank):
    response = bank["client"].get("/api/v1/consents?active=perhaps")

    assert problem_type(response) == "invalid-request"


@pytest.mark.django_db
def test_a_bad_cursor_is_404(bank):
    response = bank["client"].get("/api/v1/consents?cursor=garbage")

    assert problem_type(response) == "not-found"


@pytest.mark.django_db
def test_throttling_on_redis_answers_429_with_retry_after(settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the throttle test needs a real Redis to prove the shared limit")
    assert "RedisCache" in settings.CACHES["default"]["BACKEND"]
    agency, key = agency_with_key(
        scopes=[VERIFY_SCOPE], purposes=[PURPOSE], code=f"throttled-{uuid.uuid4().hex[:8]}", throttle_rate="3/min"
    )
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_PURPOSE=PURPOSE)

    statuses = [client.get("/api/v1/agency").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/agency")
    assert problem_type(response) == "rate-limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    cache.delete(f"ratelimit_agency_agency:{agency.code}")


@pytest.mark.django_db
def test_throttling_is_per_agency(settings):
    first, first_key = agency_with_key(purposes=[PURPOSE], code=f"a-{uuid.uuid4().hex[:8]}", throttle_rate="1/min")
    _second, second_key = agency_with_key(purposes=[PURPOSE], code=f"b-{uuid.uuid4().hex[:8]}", throttle_rate="1/min")
    headers = {"HTTP_X_PURPOSE": PURPOSE}

    APIClient().get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {first_key}", **headers)
    refused = APIClient().get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {first_key}", **headers)
    other = APIClient().get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {second_key}", **headers)

    assert (refused.status_code, other.status_code) == (429, 200)


@pytest.mark.django_db
def test_a_key_whose_first_request_died_is_free_again_after_the_claim_timeout(bank):
    from services.core.api.base import _fingerprint

    body = verify_body(bank["resident"])
    stuck = IdempotentRequest.objects.create(
        agency=bank["agency"],
        key="k-4",
        method="POST",
        path="/api/v1/residents/verify",
        fingerprint=_fingerprint(APIClient()._encode_data(body, format="json")[0], purpose=PURPOSE, case_id=None),
    )
    timeout = datetime.timedelta(seconds=settings.ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS + 1)
    IdempotentRequest.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timeout)

    response = bank["client"].post("/api/v1/residents/verify", body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert PendingEntry.objects.filter(action="services.residents.verify").count() == 1
    assert IdempotentRequest.objects.get(agency=bank["agency"], key="k-4").status_code == 200


# Clean failures (production mode: DEBUG off, no exception raised into the test client).


@pytest.fixture
def production_client(settings, bank):
    settings.DEBUG = False
    client = APIClient(enforce_csrf_checks=True, raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bank['key']}", HTTP_X_PURPOSE=PURPOSE)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status", "slug"),
    [
        ("post", "/api/v1/nothing-here", 404, "not-found"),
        ("put", "/api/nothing", 404, "not-found"),
        ("delete", "/api/v2/anything", 404, "not-found"),
        ("post", "/api/problems/not-found", 405, "method-not-allowed"),
        ("post", "/api/schema/", 405, "method-not-allowed"),
    ],
)
def test_writes_to_addresses_that_take_none_are_problems_not_the_csrf_page(
    production_client, method, path, status, slug
):
    response = getattr(production_client, method)(path, {}, format="json")

    assert response.status_code == status
    assert problem_type(response) == slug


@pytest.mark.django_db
def test_a_json_body_nested_100000_deep_is_a_400_problem(production_client):
    body = "[" * 100_000 + "]" * 100_000

    response = production_client.post(
        "/api/v1/residents/verify", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep"
    )

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_batch_key_is_a_400_problem(production_client):
    _agency, key = agency_with_key(
        kind="employer", scopes=["social-security:contributions:write"], purposes=["contribution-reporting"]
    )
    body = '[{"\\ud800": 1, "national_id": "x\\udfff"}]'
    production_client.credentials()

    response = production_client.post(
        "/api/v1/social-security/contributions",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_X_PURPOSE="contribution-reporting",
    )

    assert response.status_code == 400
    assert problem_type(response) == "malformed-request"


@pytest.mark.django_db
def test_a_surrogate_pair_is_ordinary_text(bank):
    body = '{"national_id": "1", "full_name": "\\ud83d\\ude00"}'

    response = bank["client"].post("/api/v1/residents/verify", body, content_type="application/json")

    assert problem_type(response) == "national-id-invalid"


@pytest.mark.django_db
@pytest.mark.parametrize("idempotency_key", [None, "big"])
def test_a_body_over_the_limit_is_a_413_problem(production_client, settings, idempotency_key):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    body = '{"full_name": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024 * 1024) + '"}'

    response = production_client.post("/api/v1/residents/verify", body, content_type="application/json", **headers)

    assert response.status_code == 413
    assert problem_type(response) == "request-too-large"
    assert not IdempotentRequest.objects.exists()


# One problem scheme (docs/api.md).


def test_the_ledger_endpoints_problem_types_are_published_with_the_gateways(client):
    from ledger.api import PROBLEM_TYPES

    for slug, (status, title) in PROBLEM_TYPES.items():
        response = client.get(f"/api/problems/{slug}")

        assert response.json() == {"type": f"/api/problems/{slug}", "title": title, "status": status}


@pytest.mark.django_db
def test_a_ledger_endpoint_answers_in_the_one_scheme(client):
    response = client.get("/ledger/proof/consistency?first=x&second=1")

    assert response.status_code == 400
    assert problem_type(response) == "invalid-parameter"
    assert response.json()["title"] == client.get("/api/problems/invalid-parameter").json()["title"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "1²", "٣"])
def test_digits_that_are_not_ascii_are_a_400_not_a_500(client, settings, value):
    settings.DEBUG = False
    client.raise_request_exception = False

    response = client.get(f"/ledger/proof/consistency?first={value}&second=1")

    assert response.status_code == 400
    assert problem_type(response) == "invalid-parameter"


def test_a_problem_type_cannot_be_defined_twice_with_another_status():
    from django.core.exceptions import ImproperlyConfigured

    from services.core.api.problems import problem_define

    with pytest.raises(ImproperlyConfigured):
        problem_define("idempotency-key-required", 400, "Dispensing needs an Idempotency-Key header")


def test_every_endpoint_that_needs_an_idempotency_key_answers_428_without_one():
    from django.urls import get_resolver

    from services.core.api.base import GatewayAPIView

    required = []
    for view in _gateway_views(get_resolver()):
        if getattr(view, "idempotency_required", False):
            required.append(view)
    assert {view.__name__ for view in required} >= {
        "DispensationCreateView",
        "OtcDispensationCreateView",
        "DisbursementConfirmView",
    }
    assert all(issubclass(view, GatewayAPIView) for view in required)
    from services.core.api.problems import PROBLEMS

    assert PROBLEMS["idempotency-key-required"].status_code == 428


def _gateway_views(resolver):
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _gateway_views(pattern)
        elif hasattr(pattern.callback, "view_class"):
            yield pattern.callback.view_class
