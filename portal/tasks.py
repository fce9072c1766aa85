"""Celery tasks of the portal: each loads ids, opens a system access context and calls one action."""

from celery import shared_task
from django.db import transaction

from ledger.api import Actor, access_context
from portal.models import AccessDigest, NotificationSetting
from portal.notifications import (
    access_digest_deliver,
    access_digest_make,
    access_digests_unsent,
    notification_settings_due,
)

NOTIFICATION_PURPOSE = "access-notification"


def _system(component: str):
    return access_context(
        actor=Actor(type="system", id=component), role="system", channel="task", purpose=NOTIFICATION_PURPOSE
    )


@shared_task(ignore_result=True)
def access_digests_send(frequency: str) -> int:
    """Queue a digest task for every resident asking for FREQUENCY digests, and re-queue digests never sent."""
    for digest_id in access_digests_unsent():
        access_digest_deliver_task.delay(digest_id)
    settings_ids = notification_settings_due(frequency=frequency)
    for setting_id in settings_ids:
        access_digest_make_task.delay(setting_id)
    return len(settings_ids)


@shared_task(ignore_result=True, acks_late=True)
def access_digest_make_task(setting_id: int) -> None:
    """Make one resident's digest for this period and queue its delivery once it is committed."""
    setting = NotificationSetting.objects.filter(pk=setting_id).first()
    if setting is None:
        return
    with _system("portal.access-digests"):
        digest = access_digest_make(setting=setting)
    if digest is not None:
        transaction.on_commit(lambda: access_digest_deliver_task.delay(digest.pk))


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def access_digest_deliver_task(digest_id: int) -> None:
    """Send one digest by e-mail or SMS; retried with backoff while the channel fails, never sent twice."""
    digest = AccessDigest.objects.filter(pk=digest_id).first()
    if digest is None:
        return
    with _system("portal.access-digests"):
        access_digest_deliver(digest=digest)
