from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecksConfig(AppConfig):
    name = "services.checks"
    label = "checks"
    verbose_name = _("Data checks")

    def ready(self) -> None:
        from services.checks import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
