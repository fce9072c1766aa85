from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("OneCard portal")

    def ready(self) -> None:
        from django.core import checks

        from portal import declaration  # noqa: F401  (declares the portal's purposes and ledger actions)
        from portal.checks import middleware_check

        checks.register(middleware_check)
