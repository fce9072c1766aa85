"""Gateway pages that belong to no service: problem type descriptions and the /api/ fallbacks."""

from django.http import JsonResponse

from services.core.api import problems


def problem_type(request, slug: str):
    """Describe the problem type SLUG, so every ``type`` URI can be dereferenced."""
    problem = problems.PROBLEMS.get(slug)
    if problem is None:
        return problems.problem_json_response(request, problems.NotFound, f"no problem type {slug!r}")
    return JsonResponse(
        {"type": problems.PROBLEM_BASE + slug, "title": problem.title, "status": problem.status_code},
        json_dumps_params={"ensure_ascii": False},
    )


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
    """Answer server errors with problem+json under /api/ (never a stack trace) and the default page elsewhere."""
    from django.views.defaults import server_error

    if _is_api(request):
        return problems.problem_json_response(request, problems.ServerError)
    return server_error(request)


def handler400(request, exception=None):
    from django.views.defaults import bad_request

    if _is_api(request):
        return problems.problem_json_response(request, problems.MalformedRequest, "the request could not be read")
    return bad_request(request, exception)


def handler403(request, exception=None):
    from django.views.defaults import permission_denied

    if _is_api(request):
        return problems.problem_json_response(request, problems.Forbidden)
    return permission_denied(request, exception)
