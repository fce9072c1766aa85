from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "services.checks"
    label = "checks"
    verbose_name = "Data checks"

    def ready(self) -> None:
        from services.checks import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
