from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Access ledger"

    def ready(self) -> None:
        # Each app declares its purposes in purposes.py, as admin.py declares admin classes.
        autodiscover_modules("purposes")
        from django.core import checks

        from ledger.checks import middleware_check

        checks.register(middleware_check)
