from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "services.core"
    label = "services_core"
    verbose_name = _("Partner agencies and services")

    def ready(self) -> None:
        from services.core import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
