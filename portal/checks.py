from django.conf import settings
from django.core import checks

MIDDLEWARE = "portal.middleware.AccessContextMiddleware"
AFTER = "django.contrib.auth.middleware.AuthenticationMiddleware"


def middleware_check(app_configs, **kwargs):
    """Refuse to start unless the access context middleware runs after authentication."""
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE in middleware and AFTER in middleware and middleware.index(MIDDLEWARE) > middleware.index(AFTER):
        return []
    return [
        checks.Error(
            f"'{MIDDLEWARE}' must be in MIDDLEWARE, after '{AFTER}'.",
            hint="Without it, web and admin requests have no access context and cannot record accesses.",
            id="portal.E001",
        )
    ]


def issuer_url_check(app_configs, **kwargs):
    """Refuse a credential issuer URL that SD-JWT VC verifiers could not find the issuer metadata from.

    A verifier reads ``iss`` and fetches ``/.well-known/jwt-vc-issuer`` inserted
    between its host and its path. OneCard serves the metadata at the host's
    root only, so the issuer URL must be an origin: a scheme, a host and an
    optional port, with no path, query or fragment.
    """
    from urllib.parse import urlsplit

    url = settings.ONECARD_CREDENTIAL_ISSUER_URL
    parts = urlsplit(url)
    if (
        parts.scheme in ("http", "https")
        and parts.netloc
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment)
    ):
        return []
    return [
        checks.Error(
            f"ONECARD_CREDENTIAL_ISSUER_URL must be an origin such as https://onecard.example.gov, not {url!r}.",
            hint="SD-JWT VC verifiers find the issuer's keys at <origin>/.well-known/jwt-vc-issuer; "
            "OneCard serves them at the root of its host only.",
            id="portal.E002",
        )
    ]
