from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatisticsConfig(AppConfig):
    name = "services.statistics"
    label = "statistics"
    verbose_name = _("Official statistics")

    def ready(self) -> None:
        from django.core import checks

        from services.statistics import declaration  # noqa: F401  (declares the purpose, action and catalogue entry)
        from services.statistics.checks import table_shares_check

        checks.register(table_shares_check)
