"""Public checkpoint, key and proof endpoints, the tiled log under /log/, and the witness cosignature endpoint.

Thin by design: parse the query, call one selector or action, render. Errors
are RFC 9457 problem+json.
"""

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST, require_safe

from ledger import selectors, tiles
from ledger.actions import CosignatureRejected, cosignature_add
from ledger.publication import checkpoint_published
from ledger.tools import tlog

# The problem types these endpoints answer with: {slug: (status, title)}. They share OneCard's one
# problem scheme (/api/problems/<slug>, docs/api.md); the API gateway publishes them there, since
# the ledger may not import it.
PROBLEM_BASE = "/api/problems/"
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "invalid-parameter": (400, _("A query parameter is missing or malformed")),
    "no-checkpoint": (404, _("No checkpoint of this tree size was signed")),
    "proof-unavailable": (400, _("No proof exists for these parameters")),
    "invalid-note": (400, _("The body is not a UTF-8 signed note")),
    "cosignature-rejected": (400, _("The cosignature was not accepted")),
    "no-tile": (404, _("No such tile or entry bundle in the log (yet)")),
}


def problem(slug: str, detail: str) -> JsonResponse:
    """Return the RFC 9457 problem SLUG (one of PROBLEM_TYPES)."""
    status, title = PROBLEM_TYPES[slug]
    return JsonResponse(
        {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


def _integers(request, *names: str) -> list[int] | JsonResponse:
    values = []
    for name in names:
        raw = request.GET.get(name, "")
        if not (raw.isascii() and raw.isdigit()):  # "²".isdigit() is True, and int("²") fails
            return problem("invalid-parameter", f"{name}: a non-negative integer is required")
        values.append(int(raw))
    return values


def _text(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


@require_GET
def checkpoint(request):
    """Serve the published checkpoint (the newest the witness quorum cosigned), or ?tree_size=N's, with cosignatures."""
    if "tree_size" not in request.GET:
        published = checkpoint_published()
        if published is None:
            return problem("no-checkpoint", "no checkpoint is published yet")
        response = _text(published)
        response["Cache-Control"] = "no-cache"
        return response
    parsed = _integers(request, "tree_size")
    if isinstance(parsed, JsonResponse):
        return parsed
    try:
        return _text(selectors.checkpoint_note_get(tree_size=parsed[0]))
    except selectors.ProofUnavailable as error:
        return problem("no-checkpoint", str(error))


@require_GET
def key(request):
    """Serve the note verifier key of the log."""
    return _text(selectors.verifier_key_get() + "\n")


@require_GET
def consistency(request):
    """Serve the RFC 9162 consistency proof between two tree sizes."""
    parsed = _integers(request, "first", "second")
    if isinstance(parsed, JsonResponse):
        return parsed
    first, second = parsed
    try:
        return JsonResponse(selectors.consistency_proof(first=first, second=second))
    except selectors.ProofUnavailable as error:
        return problem("proof-unavailable", str(error))


@csrf_exempt
@require_POST
def cosignature(request):
    """Accept a checkpoint cosigned by registered witnesses; the signatures authenticate the post."""
    try:
        stored = cosignature_add(cosigned_note=request.body.decode("utf-8"))
    except UnicodeDecodeError:
        return problem("invalid-note", "the body must be a UTF-8 signed note")
    except CosignatureRejected as error:
        return problem("cosignature-rejected", str(error))
    return _text(f"stored {len(stored)} cosignature(s)\n")


@require_safe
def log_checkpoint(request):
    """Serve the published checkpoint of the tiled log (C2SP tlog-tiles), the one the quorum cosigned; never cached."""
    published = checkpoint_published()
    response = problem("no-checkpoint", "no checkpoint is published yet") if published is None else _text(published)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def log_tile(request, path: str):
    """Serve one hash tile or entry bundle (public leaves: commitments) from the tile storage: no database query."""
    name = "tile/" + path
    try:
        _, _, width = tlog.tile_path_parse(name)
    except tlog.TlogError as error:
        response = problem("no-tile", str(error))
    else:
        data = tiles.tile_read(path=name)
        if data is None:
            response = problem("no-tile", f"{name} is not in the log (yet)")
        else:
            response = HttpResponse(data, content_type="application/octet-stream")
            response["Cache-Control"] = tiles.FULL_TILE_CACHE if width == tlog.TILE_WIDTH else tiles.PARTIAL_TILE_CACHE
            return response
    response["Cache-Control"] = "no-store"
    return response
