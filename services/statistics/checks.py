from django.conf import settings
from django.core import checks


def table_shares_check(app_configs, **kwargs):
    """Refuse to start unless every trend table has a share of the budget, and only they do."""
    from services.statistics.tables import TABLES

    shares = settings.ONECARD_STATISTICS_TABLE_SHARES
    missing, unknown = sorted(set(TABLES) - set(shares)), sorted(set(shares) - set(TABLES))
    if not missing and not unknown:
        return []
    return [
        checks.Error(
            f"ONECARD_STATISTICS_TABLE_SHARES must name each table once: missing {missing}, unknown {unknown}.",
            hint=f"The tables are {', '.join(TABLES)} (docs/statistics.md).",
            id="statistics.E001",
        )
    ]
