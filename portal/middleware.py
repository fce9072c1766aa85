"""The portal's middleware: the ledger access context of each signed-in request, and the session's idle timeout.

Staff act under the purpose they stated in their session (key
``onecard_purpose``) or the configured default; residents act under
``self-service``. Both are named by a keyed pseudonym, never a username.
Anonymous requests get no context, so any access to resident data they
trigger raises NoAccessContext instead of going unrecorded.
"""

import re
import time
import uuid

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from cards.admin_base import SESSION_PURPOSE_KEY
from ledger.api import Actor, UnknownPurpose, access_context, actor_pseudonym, purpose_check, subject_pseudonym
from portal.web.access import RESIDENT_PURPOSE

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

REFRESHED_AT_KEY = "_onecard_refreshed_at"


class SessionRefreshMiddleware:
    """Push a signed-in session's expiry forward at most once per ONECARD_SESSION_REFRESH_SECONDS.

    Saving every session on every request (SESSION_SAVE_EVERY_REQUEST) costs an
    UPDATE per page view and makes parallel requests of one resident queue on
    the session row. Touching a key once a minute still ends a session after
    ONECARD_SESSION_IDLE_SECONDS without requests, give or take that minute.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty() and len(session.keys()):
            now = int(time.time())
            if now - session.get(REFRESHED_AT_KEY, 0) >= settings.ONECARD_SESSION_REFRESH_SECONDS:
                session[REFRESHED_AT_KEY] = now
        return self.get_response(request)


class AccessContextMiddleware:
    """Set the ledger's access context for each signed-in request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        arguments = request_context(request)
        if arguments is None:
            response = self.get_response(request)
        else:
            with access_context(**arguments, request_id=request_id):
                response = self.get_response(request)
        response.headers.setdefault("X-Request-ID", request_id)
        return response


def request_context(request) -> dict | None:
    """Return the access_context arguments for REQUEST's user, or None when anonymous."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    channel = "admin" if request.path.startswith(_admin_prefix()) else "web"
    if user.is_staff:
        return {
            "actor": Actor(type="staff", id=actor_pseudonym(kind="staff", reference=str(user.pk))),
            "role": "superuser" if user.is_superuser else _staff_role(user),
            "channel": channel,
            "purpose": _staff_purpose(request),
        }
    resident = getattr(user, "resident", None)
    identity = (
        subject_pseudonym(resident) if resident is not None else actor_pseudonym(kind="user", reference=str(user.pk))
    )
    return {
        "actor": Actor(type="resident", id=identity),
        "role": "resident",
        "channel": channel,
        "purpose": RESIDENT_PURPOSE,
    }


def _staff_role(user) -> str:
    names = sorted(user.groups.values_list("name", flat=True))
    return names[0] if names else "staff"


def _staff_purpose(request) -> str:
    stated = request.session.get(SESSION_PURPOSE_KEY) if hasattr(request, "session") else None
    if stated:
        try:
            return purpose_check(stated).code
        except UnknownPurpose:
            pass
    return settings.ONECARD_LEDGER_STAFF_DEFAULT_PURPOSE


def _admin_prefix() -> str:
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return "/admin/"
