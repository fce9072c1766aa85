from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacyConfig(AppConfig):
    name = "services.pharmacy"
    label = "pharmacy"
    verbose_name = _("Drug purchase")

    def ready(self) -> None:
        from services.pharmacy import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
