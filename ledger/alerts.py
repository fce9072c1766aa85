"""Alerts for the ledger's auditors: stored for the admin and e-mailed to every active auditor."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from ledger.models import Alert, VerificationRun

logger = logging.getLogger(__name__)


def alert_raise(*, message: str, verification: VerificationRun | None = None) -> Alert:
    """Store an alert for the admin and email every active auditor."""
    alert = Alert(created_at=timezone.now(), message=message, verification=verification)
    alert.full_clean()
    alert.save()
    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=settings.ONECARD_AUDITOR_GROUP)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if recipients:
        transaction.on_commit(
            lambda: send_mail(_alert_subject(), message, None, recipients, fail_silently=False), robust=True
        )
    else:
        logger.error("ledger alert with no auditor to email: %s", message)
    return alert


def _alert_subject() -> str:
    # Staff accounts state no language: the subject goes in both of the admin's languages, Chinese first.
    subjects = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            subjects.append(gettext("OneCard ledger alert"))
    return " / ".join(subjects)
