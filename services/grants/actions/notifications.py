"""Tell the resident what happened to their application."""

from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from ledger.api import record
from services.grants.actions.base import S
from services.grants.models import Application

_STATUS_MESSAGES = {
    S.SUBMITTED: lambda: _("We received your application to %(programme)s."),
    S.ELIGIBLE: lambda: _("Your application to %(programme)s passed the eligibility check and awaits review."),
    S.INELIGIBLE: lambda: _("Your application to %(programme)s did not pass the eligibility check. You may appeal."),
    S.UNDER_REVIEW: lambda: _("A caseworker is reviewing your application to %(programme)s."),
    S.APPROVED: lambda: _("Your application to %(programme)s was approved: %(amount)s CNY."),
    S.REJECTED: lambda: _("Your application to %(programme)s was rejected. You may appeal."),
    S.SCHEDULED: lambda: _("The payment of %(amount)s CNY from %(programme)s is scheduled onto your card."),
    S.PAID: lambda: _("%(amount)s CNY from %(programme)s was paid onto your card."),
    S.FAILED: lambda: _("The payment from %(programme)s failed; it will be tried again in the next cycle."),
}


def application_notify(*, application: Application, status: str) -> bool:
    """Email the resident, in the language they applied in, that the application became STATUS."""
    resident = application.resident
    if not resident.email or status not in _STATUS_MESSAGES:
        return False
    with translation.override(application.language):
        programme = application.programme
        name = programme.name_zh_hans if application.language.lower().startswith("zh") else programme.name_en
        body = _STATUS_MESSAGES[status]() % {"programme": name, "amount": application.amount}
        subject = _("OneCard grant application: %(status)s") % {"status": str(S(status).label)}
    with transaction.atomic():
        record(action="grants.notifications.send", subject=resident, object=f"{application.ledger_object} {status}")
    send_mail(subject, body, None, [resident.email])
    return True
