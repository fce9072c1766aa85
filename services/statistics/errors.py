"""The domain errors of official statistics."""

from decimal import Decimal


class StatisticsError(Exception):
    """A release request that cannot be served."""


class PeriodInvalid(StatisticsError):
    """The period is not a month written YYYY-MM."""


class PeriodNotClosed(StatisticsError):
    """The period (or the last ISO week assigned to it) has not ended yet."""


class TableUnknown(StatisticsError):
    """No such table."""


class BudgetExhausted(StatisticsError):
    """Publishing would spend more of the period's privacy budget than its limit."""

    def __init__(self, *, period: str, needed: Decimal, spent: Decimal, limit: Decimal) -> None:
        self.period, self.needed, self.spent, self.limit = period, needed, spent, limit
        super().__init__(
            f"the privacy budget of {period} is exhausted: this request needs rho={needed}, "
            f"{spent} of the limit {limit} is spent, {max(limit - spent, Decimal(0))} is left; nothing was published"
        )
