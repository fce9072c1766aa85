from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "services.health"
    label = "health"
    verbose_name = "Health"

    def ready(self) -> None:
        from services.health import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
