from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "cards"

    def ready(self) -> None:
        from cards import declaration  # noqa: F401  (declares the app's purposes and ledger actions)
        from cards.sealed import sealed_access_notify
        from ledger.api import sealed_released

        sealed_released.connect(sealed_access_notify, dispatch_uid="cards_sealed_access_notify")
