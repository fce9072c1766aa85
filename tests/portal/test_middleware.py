import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from ledger.api import context_get_or_none, subject_pseudonym
from portal.checks import middleware_check
from portal.middleware import AccessContextMiddleware
from tests.factories import ResidentFactory, UserFactory


def _context_seen(request):
    seen = []

    def view(request):
        seen.append(context_get_or_none())
        return HttpResponse("ok")

    response = AccessContextMiddleware(view)(request)
    return seen[0], response


def _request(user, path="/", session=None):
    request = RequestFactory().get(path, HTTP_X_REQUEST_ID="req-1")
    request.user = user
    request.session = session or {}
    return request


def test_anonymous_requests_get_no_context():
    context, response = _context_seen(_request(AnonymousUser()))

    assert context is None
    assert response["X-Request-ID"] == "req-1"


@pytest.mark.django_db
def test_staff_act_under_a_pseudonym_and_their_stated_purpose():
    user = UserFactory(is_staff=True, username="wang.li")

    context, _ = _context_seen(_request(user, "/admin/cards/", session={"onecard_purpose": "card-administration"}))

    assert (context.actor.type, context.channel, context.purpose) == ("staff", "admin", "card-administration")
    assert "wang.li" not in context.actor.id
    assert context.actor.id.startswith("s1-")
    assert context.request_id == "req-1"


@pytest.mark.django_db
def test_staff_without_a_stated_purpose_get_the_registered_default():
    context, _ = _context_seen(_request(UserFactory(is_staff=True), session={"onecard_purpose": "curiosity"}))

    assert context.purpose == "staff-duty"


@pytest.mark.django_db
def test_residents_act_as_themselves_under_self_service():
    resident = ResidentFactory(user=UserFactory())

    context, _ = _context_seen(_request(resident.user, "/me/"))

    assert (context.actor.type, context.actor.id) == ("resident", subject_pseudonym(resident))
    assert (context.channel, context.purpose) == ("web", "self-service")


def test_system_check_passes_with_the_configured_middleware():
    assert middleware_check(None) == []


@pytest.mark.parametrize(
    "middleware",
    [
        ["django.contrib.auth.middleware.AuthenticationMiddleware"],
        ["portal.middleware.AccessContextMiddleware", "django.contrib.auth.middleware.AuthenticationMiddleware"],
    ],
)
def test_system_check_fires_when_the_middleware_is_missing_or_early(settings, middleware):
    settings.MIDDLEWARE = middleware

    assert [error.id for error in middleware_check(None)] == ["portal.E001"]
