"""The OpenAPI schema, the Swagger UI, and a schemathesis run proving the API keeps to its schema."""

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import ResidentFactory
from tests.factories.core import agency_with_key
from tests.portal.test_api_gateway import PURPOSE, VERIFY_SCOPE, grant_consent

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_schema_is_openapi_3_with_the_gateway_headers(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    schema = response.json()
    assert schema["openapi"].startswith("3.")
    verify = schema["paths"]["/api/v1/residents/verify"]["post"]
    headers = {p["name"]: p for p in verify["parameters"] if p["in"] == "header"}
    assert headers["X-Purpose"]["required"] is True
    assert {"X-Case-Id", "Idempotency-Key"} <= set(headers)
    assert "application/problem+json" in verify["responses"]["403"]["content"]
    assert schema["components"]["securitySchemes"]["agencyKey"]["scheme"] == "bearer"
    assert verify["requestBody"]["content"]["application/json"]["examples"]


def test_swagger_ui_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


@pytest.fixture
def wsgi_app_keeping_the_test_connection():
    """Return the WSGI app, kept from closing the test's database connection after each request.

    Django's test client does the same; the raw WSGI handler would close the
    connection that holds the test transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_schemathesis_finds_no_server_error_and_no_departure_from_the_schema(wsgi_app_keeping_the_test_connection):
    resident = ResidentFactory(full_name="李伟")
    agency, key = agency_with_key(scopes=[VERIFY_SCOPE], purposes=[PURPOSE], throttle_rate="100000/min")
    grant_consent(resident, agency)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app_keeping_the_test_connection)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    authorised = {"Authorization": f"Bearer {key}", "X-Purpose": PURPOSE}
    statuses: set[int] = set()

    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=12,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        def check(case):
            statuses.add(case.call_and_validate(headers=authorised, checks=CHECKS).status_code)
            statuses.add(case.call_and_validate(checks=CHECKS).status_code)

        check()

    # The run reached the handlers as well as the refusals, or it proved nothing.
    assert 200 in statuses and 400 in statuses and {401, 403} & statuses, statuses
