"""Serve the public tiles before the session, locale, CSRF, auth and CSP middleware run.

A tile is public, immutable once full, and read from the tile storage without a
database query; it needs no session, user, access context or page policy. Like
WhiteNoise for static files, this answers ``GET``/``HEAD /log/tile/...`` right
after the security middleware, so mirrors and browsers following the log cost
the server as little as a static file does. Everything else, and the
checkpoint, goes through the full stack.
"""

from django.urls import NoReverseMatch, reverse

from ledger import views


class LogTileMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = None

    def __call__(self, request):
        if self.prefix is None:
            try:
                self.prefix = reverse("log:tile", kwargs={"path": "x"})[:-1]
            except (NoReverseMatch, KeyError):
                self.prefix = ""  # a site (or a test) without the log's URLs: nothing to serve here
        if self.prefix and request.method in ("GET", "HEAD") and request.path_info.startswith(self.prefix):
            return views.log_tile(request, request.path_info[len(self.prefix) :])
        return self.get_response(request)
