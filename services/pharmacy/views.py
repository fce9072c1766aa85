"""The pharmacy counter page: a browser client of the partner API, holding the pharmacy's key in the tab only.

The page itself shows no resident data. Everything it shows comes from the
partner endpoints, called from the browser with the pharmacy's own key, so the
gateway checks the key, scope, purpose and rate limit, and records every read,
exactly as for any other client of the pharmacy.
"""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from services.pharmacy import rules


@require_GET
def counter(request):
    """Render the counter page: scan the resident's code, compare the photo and name, dispense."""
    sessions_url = reverse("api-pharmacy-sessions")
    return render(
        request,
        "pharmacy/counter.html",
        {
            "sessions_url": sessions_url,
            "dispensations_url": reverse("api-pharmacy-dispensations"),
            "dispensing_purpose": "drug-dispensing",
            "identification_purpose": "face-to-face-identification",
            "session_minutes": int(rules.SESSION_LIFETIME.total_seconds() // 60),
        },
    )
