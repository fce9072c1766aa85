"""Celery tasks of drug purchase: each opens its own access context and calls one action."""

import datetime

from celery import shared_task
from django.utils import timezone

from ledger.api import Actor, access_context


def _system_context(name: str, purpose: str):
    return access_context(
        actor=Actor(type="system", id=f"pharmacy.tasks.{name}"), role="system", channel="task", purpose=purpose
    )


@shared_task(ignore_result=True)
def settlement_reports_daily(day: str | None = None) -> int:
    """Produce every pharmacy's settlement report of DAY (ISO date; yesterday by default); return how many."""
    from services.pharmacy.actions import settlement_reports_produce

    on = datetime.date.fromisoformat(day) if day else timezone.localdate() - datetime.timedelta(days=1)
    with _system_context("settlement_reports_daily", "pharmacy-settlement"):
        return len(settlement_reports_produce(day=on))


@shared_task(ignore_result=True)
def suspicious_patterns_flag() -> int:
    """Raise a flag for each resident served by too many pharmacies within a week; return how many."""
    from services.pharmacy.actions import pharmacy_hopping_flag

    with _system_context("suspicious_patterns_flag", "pharmacy-regulation"):
        return len(pharmacy_hopping_flag())
