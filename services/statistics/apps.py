from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "services.statistics"
    label = "statistics"
    verbose_name = "Official statistics"

    def ready(self) -> None:
        from django.core import checks

        from services.statistics import declaration  # noqa: F401  (declares the purpose, action and catalogue entry)
        from services.statistics.checks import table_shares_check

        checks.register(table_shares_check)
