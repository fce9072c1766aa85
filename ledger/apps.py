from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Access ledger"

    def ready(self) -> None:
        from ledger import declaration  # noqa: F401  (declares the ledger's purposes)
