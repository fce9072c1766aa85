from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "cards"

    def ready(self) -> None:
        from cards import declaration  # noqa: F401  (declares the app's purposes and ledger actions)
