"""Celery tasks of official statistics: each opens its own access context and calls one action."""

from celery import shared_task

from ledger.api import Actor, access_context
from services.statistics.errors import BudgetExhausted


@shared_task(ignore_result=True)
def statistics_publish_last_closed() -> int:
    """Publish every table of the latest closed period (a no-op for tables already released); return how many new."""
    from services.statistics.actions import period_publish
    from services.statistics.periods import period_last_closed

    with access_context(
        actor=Actor(type="system", id="statistics.tasks.statistics_publish_last_closed"),
        role="system",
        channel="task",
        purpose="official-statistics",
    ):
        try:
            return len(period_publish(period=period_last_closed()).new)
        except BudgetExhausted:
            # Shares above the limit are an operator's decision; the command says which (docs/statistics.md).
            return 0
