from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "services.grants"
    label = "grants"
    verbose_name = "Grants"

    def ready(self) -> None:
        from services.grants import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
