from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "services.core"
    label = "services_core"
    verbose_name = "Partner agencies and services"

    def ready(self) -> None:
        from services.core import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
