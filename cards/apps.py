from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = _("Cards")

    def ready(self) -> None:
        from cards import declaration  # noqa: F401  (declares the app's purposes and ledger actions)
        from cards.sealed import sealed_access_notify
        from ledger.api import sealed_released

        sealed_released.connect(sealed_access_notify, dispatch_uid="cards_sealed_access_notify")
