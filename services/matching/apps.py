from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "services.matching"
    label = "matching"
    verbose_name = _("Private matching")

    def ready(self) -> None:
        from services.matching import declaration  # noqa: F401  (declares scopes, actions, catalogue)
