"""The resident's completeness bundle: proof that "Who accessed my data" shows every access to their data."""

import json

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ledger.api import ProofUnavailable
from portal import selectors
from portal.web.access import resident_required


@require_GET
@never_cache
@resident_required
def access_completeness(request):
    """Download the completeness bundle that the page's check and onecard_verify.py completeness verify."""
    try:
        bundle = selectors.access_completeness_for_resident(resident=request.resident)
    except ProofUnavailable as error:
        return HttpResponse(
            json.dumps({"error": "not-yet", "detail": str(error)}), status=409, content_type="application/json"
        )
    response = HttpResponse(json.dumps(bundle), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="onecard-completeness.json"'
    return response
