from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "services.matching"
    label = "matching"
    verbose_name = "Private matching"

    def ready(self) -> None:
        from services.matching import declaration  # noqa: F401  (declares scopes, actions, catalogue)
