"""Check a submitted application against the programme's rules."""

import datetime

from django.db import transaction
from django.utils import timezone

from cards.models import Resident
from services.grants import lock_objects, rules
from services.grants.actions.base import S, _move, _record, _save
from services.grants.models import Application


def _adult(resident: Resident, on: datetime.date) -> bool:
    born = resident.birth_date
    return (on.year - born.year) - ((on.month, on.day) < (born.month, born.day)) >= 18


def _shared_details(application: Application, on: datetime.date) -> list[str]:
    """Return flags for the reviewer: a phone number or payout account another resident also uses, or an
    account a family proxy chose for an adult that the adult has not used on an earlier application."""
    flags = []
    phone = application.resident.phone
    if phone and Resident.objects.filter(phone=phone).exclude(pk=application.resident_id).exists():
        flags.append("phone_shared")
    if (
        Application.objects.filter(payout_account=application.payout_account)
        .exclude(resident_id=application.resident_id)
        .exists()
    ):
        flags.append("payout_account_shared")
    if (
        application.submitted_by_proxy_id is not None
        and _adult(application.resident, on)
        and not Application.objects.filter(
            resident_id=application.resident_id, payout_account=application.payout_account
        )
        .exclude(pk=application.pk)
        .filter(submitted_by_proxy__isnull=True)
        .exists()
    ):
        flags.append("payout_account_set_by_proxy")
    return flags


@transaction.atomic
def application_assess(*, application: Application, on: datetime.date | None = None) -> Application:
    """Run the programme's eligibility rules on a submitted application and store the reason for each."""
    application = lock_objects.application_lock(application_id=application.pk)
    if application.status != S.SUBMITTED:
        return application
    programme = application.programme
    results = rules.eligibility_evaluate(
        programme=programme,
        resident=application.resident,
        declared_income=application.declared_income,
        on=on or timezone.localdate(),
    )
    application.amount = rules.amount_compute(
        programme=programme, declared_income=application.declared_income, dependants=application.dependants
    )
    checks = [result.as_dict() for result in results]
    if application.amount <= 0:
        checks.append({"rule": "amount_positive", "passed": False, "reason": "the formula gives no amount"})
    application.eligibility = checks
    application.flags = _shared_details(application, on or timezone.localdate())
    _move(application, S.ELIGIBLE if all(check["passed"] for check in checks) else S.INELIGIBLE)
    _save(application)
    _record(application, "assess", ",".join(application.flags))
    return application


# Caseworkers' steps.
