from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "OneCard portal"

    def ready(self) -> None:
        from django.core import checks

        from portal import declaration  # noqa: F401  (declares the portal's purposes and ledger actions)
        from portal.checks import middleware_check

        checks.register(middleware_check)
