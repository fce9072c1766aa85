from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "services.health"
    label = "health"
    verbose_name = _("Health")

    def ready(self) -> None:
        from services.health import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
