from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Access ledger")

    def ready(self) -> None:
        from django.core import checks

        from ledger import declaration  # noqa: F401  (declares the ledger's purposes)
        from ledger.checks import witness_policy_check, witness_quorum_check

        checks.register(witness_policy_check)
        checks.register(witness_quorum_check, deploy=True)

        from django.db.backends.signals import connection_created

        from ledger.triggers import sqlite_functions_register

        # The pending table's DELETE trigger asks this function whether the sequencer is deleting.
        connection_created.connect(sqlite_functions_register, dispatch_uid="ledger_sqlite_functions")
