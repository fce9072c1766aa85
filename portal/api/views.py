"""Gateway pages that belong to no service: problem type descriptions and the /api/ fallbacks."""

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer

from services.core.api import problems


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema; its errors are problem+json like every other answer under /api/, never YAML."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = problems.PROBLEM_CONTENT_TYPE
        return response


# The views below change nothing, and a partner sends no CSRF token: without the exemption a POST
# would get Django's HTML CSRF page instead of the problem its address and method deserve.
@csrf_exempt
def problem_type(request, slug: str):
    """Describe the problem type SLUG, so every ``type`` URI can be dereferenced."""
    if request.method not in ("GET", "HEAD"):
        return problems.problem_json_response(request, problems.MethodNotAllowed, f"{request.method} is not allowed")
    problem = problems.PROBLEMS.get(slug)
    if problem is None:
        return problems.problem_json_response(request, problems.NotFound, f"no problem type {slug!r}")
    return JsonResponse(
        {"type": problems.PROBLEM_BASE + slug, "title": problem.title, "status": problem.status_code},
        json_dumps_params={"ensure_ascii": False},
    )


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Answer an unknown address under /api/ with a problem, whatever DEBUG says."""
    return problems.problem_json_response(request, problems.NotFound, f"no endpoint at {request.path}")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    """Answer Django 404s with problem+json under /api/ and the default page elsewhere."""
    from django.views.defaults import page_not_found

    if _is_api(request):
        return problems.problem_json_response(request, problems.NotFound)
    return page_not_found(request, exception)


def handler500(request):
    """Answer server errors with problem+json under /api/ (never a stack trace) and the default page elsewhere.

    When PostgreSQL or Redis cannot be reached the answer is 503 with Retry-After, as problem+json to a
    client that does not ask for HTML (the API, /ledger/, /.well-known/, /cards/status) and as a
    readable page to a browser: nothing was done, and a retry may work.
    """
    import sys

    from django.views.defaults import server_error

    error = sys.exc_info()[1]
    if error is not None and problems.is_outage(error):
        return _unavailable(request)
    if _is_api(request):
        return problems.problem_json_response(request, problems.ServerError)
    return server_error(request)


def _unavailable(request):
    from django.http import HttpResponse
    from django.template import loader

    if _is_api(request) or "text/html" not in request.headers.get("Accept", ""):
        response = problems.problem_json_response(request, problems.ServiceUnavailable)
    else:
        # Rendered without the request: its session and user live in what is down.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = problems.RETRY_AFTER_SECONDS
    response["Cache-Control"] = "no-store"
    return response


def handler400(request, exception=None):
    from django.core.exceptions import RequestDataTooBig
    from django.views.defaults import bad_request

    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return problems.problem_json_response(request, problems.RequestTooLarge)
        return problems.problem_json_response(request, problems.MalformedRequest, "the request could not be read")
    return bad_request(request, exception)


def handler403(request, exception=None):
    from django.views.defaults import permission_denied

    if _is_api(request):
        return problems.problem_json_response(request, problems.Forbidden)
    return permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """Answer a refused CSRF check with problem+json under /api/ and Django's page elsewhere."""
    from django.views.csrf import csrf_failure as default_csrf_failure

    if _is_api(request):
        return problems.problem_json_response(request, problems.Forbidden, "the request is not allowed here")
    if request.path.startswith("/me/") or request.path == reverse("portal:logout"):
        # A resident's form from an older page: after signing in again, or switching whom they act for.
        # Signing out from such a page lands here too; this page's own Sign out button has a fresh token.
        return render(request, "portal/me/form_expired.html", status=403)
    return default_csrf_failure(request, reason)
