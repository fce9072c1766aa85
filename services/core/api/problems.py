"""RFC 9457 problem details for every error under /api/, each with a stable ``type``.

A problem's ``type`` is the relative URI ``/api/problems/<slug>``; it never
changes once published, and GET on it describes the problem.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from ledger.api import PROBLEM_TYPES as LEDGER_PROBLEM_TYPES
from services.core import errors

logger = logging.getLogger("onecard.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "/api/problems/"
AUTHENTICATE_HEADER = 'Bearer realm="onecard"'


class Problem(exceptions.APIException):
    """An API error with a stable problem type."""

    slug = "bad-request"
    title = _("Bad request")
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str | None = None, *, extensions: dict | None = None) -> None:
        super().__init__(detail or self.title, code=self.slug)
        self.extensions = extensions or {}


def _problem(slug: str, status_code: int, title: str) -> type[Problem]:
    name = "".join(part.capitalize() for part in slug.split("-"))
    return type(name, (Problem,), {"slug": slug, "status_code": status_code, "title": title})


MalformedRequest = _problem("malformed-request", 400, _("The request body is not valid JSON"))
InvalidRequest = _problem("invalid-request", 400, _("The request has invalid fields"))
PurposeRequired = _problem("purpose-required", 400, _("The X-Purpose header is required"))
CaseIdInvalid = _problem("case-id-invalid", 400, _("The X-Case-Id header is malformed"))
IdempotencyKeyInvalid = _problem("idempotency-key-invalid", 400, _("The Idempotency-Key header is malformed"))
NationalIdInvalid = _problem("national-id-invalid", 400, _("The national ID is malformed"))
CredentialsMissing = _problem("credentials-missing", 401, _("An API key is required"))
CredentialsInvalid = _problem("credentials-invalid", 401, _("The API key is not valid"))
CredentialsRevoked = _problem("credentials-revoked", 401, _("The API key was revoked"))
CredentialsExpired = _problem("credentials-expired", 401, _("The API key has expired"))
AgencySuspended = _problem("agency-suspended", 403, _("The agency is suspended"))
ScopeMissing = _problem("scope-missing", 403, _("The agency does not hold the scope this endpoint needs"))
PurposeNotAllowed = _problem("purpose-not-allowed", 403, _("The purpose is not allowed for this agency and scope"))
ConsentMissing = _problem("consent-missing", 403, _("The resident has not given consent for this access"))
Forbidden = _problem("forbidden", 403, _("The request is not allowed"))
NotFound = _problem("not-found", 404, _("Nothing was found at this address"))
ProofUnavailable = _problem("proof-unavailable", 400, _("No proof exists for these parameters"))
MethodNotAllowed = _problem("method-not-allowed", 405, _("The method is not allowed here"))
NotAcceptable = _problem("not-acceptable", 406, _("The requested media type cannot be served"))
IdempotencyKeyInFlight = _problem(
    "idempotency-key-in-flight", 409, _("The first request with this key is still running")
)
RequestTooLarge = _problem("request-too-large", 413, _("The request body is larger than OneCard accepts"))
UnsupportedMediaType = _problem("unsupported-media-type", 415, _("The request body must be application/json"))
IdempotencyKeyReused = _problem("idempotency-key-reused", 422, _("The Idempotency-Key was used with another request"))
# 428, as draft-ietf-httpapi-idempotency-key-header says for an endpoint that needs the key.
IdempotencyKeyRequired = _problem("idempotency-key-required", 428, _("This endpoint needs an Idempotency-Key header"))
RateLimited = _problem("rate-limited", 429, _("Too many requests"))
ServerError = _problem("server-error", 500, _("The server could not complete the request"))
ServiceUnavailable = _problem("service-unavailable", 503, _("A service OneCard depends on is unavailable; retry later"))

PROBLEMS: dict[str, type[Problem]] = {
    problem.slug: problem
    for problem in (
        MalformedRequest,
        InvalidRequest,
        PurposeRequired,
        CaseIdInvalid,
        IdempotencyKeyInvalid,
        NationalIdInvalid,
        CredentialsMissing,
        CredentialsInvalid,
        CredentialsRevoked,
        CredentialsExpired,
        AgencySuspended,
        ScopeMissing,
        PurposeNotAllowed,
        ConsentMissing,
        Forbidden,
        NotFound,
        ProofUnavailable,
        MethodNotAllowed,
        NotAcceptable,
        IdempotencyKeyInFlight,
        RequestTooLarge,
        UnsupportedMediaType,
        IdempotencyKeyReused,
        IdempotencyKeyRequired,
        RateLimited,
        ServerError,
        ServiceUnavailable,
    )
}

_DOMAIN_ERRORS: dict[type[Exception], type[Problem]] = {
    errors.CredentialsInvalid: CredentialsInvalid,
    errors.CredentialsRevoked: CredentialsRevoked,
    errors.CredentialsExpired: CredentialsExpired,
    errors.AgencyInactive: AgencySuspended,
    errors.ConsentMissing: ConsentMissing,
    errors.ScopeWithdrawn: ScopeMissing,
    errors.NationalIdInvalid: NationalIdInvalid,
    errors.IdempotencyKeyReused: IdempotencyKeyReused,
    errors.IdempotencyKeyInFlight: IdempotencyKeyInFlight,
}

_DRF_ERRORS: dict[type[exceptions.APIException], type[Problem]] = {
    exceptions.ParseError: MalformedRequest,
    exceptions.ValidationError: InvalidRequest,
    exceptions.NotAuthenticated: CredentialsMissing,
    exceptions.AuthenticationFailed: CredentialsInvalid,
    exceptions.PermissionDenied: Forbidden,
    exceptions.NotFound: NotFound,
    exceptions.MethodNotAllowed: MethodNotAllowed,
    exceptions.NotAcceptable: NotAcceptable,
    exceptions.UnsupportedMediaType: UnsupportedMediaType,
    exceptions.Throttled: RateLimited,
}


RETRY_AFTER_SECONDS = "5"


def is_outage(exc: Exception) -> bool:
    """Return whether EXC means Redis or the database could not be reached (as opposed to a bug)."""
    import redis
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, redis.ConnectionError | redis.TimeoutError | OperationalError | InterfaceError)


def problem_body(*, problem: type[Problem], detail: str, instance: str = "", extensions: dict | None = None) -> dict:
    """Return the RFC 9457 members of one problem."""
    body = {
        "type": PROBLEM_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions or {})
    return body


def _validation_errors(detail, pointer: str = "#") -> list[dict]:
    """Flatten DRF validation details into RFC 9457 'errors' entries with JSON pointers."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in _validation_errors(value, f"{pointer}/{key}")]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"pointer": pointer, "detail": str(item)} for item in detail]
        return [item for index, value in enumerate(detail) for item in _validation_errors(value, f"{pointer}/{index}")]
    return [{"pointer": pointer, "detail": str(detail)}]


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    """Turn any exception raised by an API view into a problem+json response."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}
    if isinstance(exc, Http404):
        exc = NotFound(str(exc) if str(exc) else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = Forbidden()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(f"the body may hold at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
    elif type(exc) in _DOMAIN_ERRORS:
        exc = _DOMAIN_ERRORS[type(exc)](str(exc))

    if isinstance(exc, Problem):
        problem, detail, extensions = type(exc), str(exc.detail), dict(exc.extensions)
    elif isinstance(exc, exceptions.APIException):
        problem = next((p for cls, p in _DRF_ERRORS.items() if isinstance(exc, cls)), None)
        if problem is None:
            problem = _problem(exc.default_code.replace("_", "-"), exc.status_code, str(exc.default_detail))
        extensions = {}
        if isinstance(exc, exceptions.ValidationError):
            detail = "See 'errors' for each invalid field."
            extensions["errors"] = _validation_errors(exc.detail)
        else:
            detail = str(exc.detail)
    elif is_outage(exc):
        # Redis (throttles, cache) or PostgreSQL is unreachable: the transaction rolled back, so
        # nothing was served without its ledger entry, and the client may retry.
        logger.warning("dependency unavailable in %s: %s", instance, exc)
        problem, detail, extensions = ServiceUnavailable, ServiceUnavailable.title, {}
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    else:
        logger.exception("unhandled error in %s", instance)
        problem, detail, extensions = ServerError, ServerError.title, {}

    if problem.status_code == 401:
        headers["WWW-Authenticate"] = AUTHENTICATE_HEADER
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        extensions.setdefault("retry_after", int(headers["Retry-After"]))
    from rest_framework.views import set_rollback  # rest_framework.views imports this module through settings

    set_rollback()
    body = problem_body(problem=problem, detail=detail, instance=instance, extensions=extensions)
    return Response(body, status=problem.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_json_response(request, problem: type[Problem], detail: str | None = None) -> JsonResponse:
    """Return a problem+json response outside DRF, for Django's own error handlers."""
    body = problem_body(problem=problem, detail=detail or problem.title, instance=request.path)
    return JsonResponse(body, status=problem.status_code, content_type=PROBLEM_CONTENT_TYPE)


def problem_define(
    slug: str, status_code: int, title: str, *, domain_errors: tuple[type[Exception], ...] = ()
) -> type[Problem]:
    """Create the problem type SLUG, publish it under /api/problems/ and map DOMAIN_ERRORS to it.

    A slug names one problem: defining it again with another status or title is a mistake.
    """
    problem = PROBLEMS.get(slug)
    if problem is None:
        problem = PROBLEMS[slug] = _problem(slug, status_code, title)
    elif (problem.status_code, problem.title) != (status_code, title):
        raise ImproperlyConfigured(
            f"problem type {slug!r} is already defined as {problem.status_code} {problem.title!r}"
        )
    for error in domain_errors:
        _DOMAIN_ERRORS[error] = problem
    return problem


# The ledger's public endpoints (ledger/views.py) answer in the same scheme; publish their types.
for _slug, (_status, _title) in LEDGER_PROBLEM_TYPES.items():
    problem_define(_slug, _status, _title)
