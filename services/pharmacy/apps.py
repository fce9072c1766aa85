from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    name = "services.pharmacy"
    label = "pharmacy"
    verbose_name = "Drug purchase"

    def ready(self) -> None:
        from services.pharmacy import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
