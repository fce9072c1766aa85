"""Celery tasks of private matching."""

from celery import shared_task


@shared_task(ignore_result=True)
def matching_sessions_end_expired_task() -> None:
    """Empty the protocol fields of matching sessions past their expiry (beat, every five minutes)."""
    from services.matching.actions import matching_sessions_end_expired

    matching_sessions_end_expired()
