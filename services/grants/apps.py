from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrantsConfig(AppConfig):
    name = "services.grants"
    label = "grants"
    verbose_name = _("Grants")

    def ready(self) -> None:
        from services.grants import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
