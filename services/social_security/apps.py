from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SocialSecurityConfig(AppConfig):
    name = "services.social_security"
    label = "social_security"
    verbose_name = _("Social security")

    def ready(self) -> None:
        from services.social_security import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
