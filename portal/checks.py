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
