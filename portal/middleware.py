"""Slide the session's idle timeout without writing the session on every request."""

import time

from django.conf import settings

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
