"""Celery tasks of the partner gateway."""

from celery import shared_task


@shared_task(ignore_result=True)
def idempotency_keys_purge() -> None:
    """Forget stored idempotent responses past their retention and claims whose request never finished."""
    from services.core.actions import idempotent_requests_purge

    idempotent_requests_purge()
