"""Schedule approved grants for payment and record the bank's confirmations."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cards.actions import card_payment_credit
from cards.models import Card
from ledger.api import record
from services.core.models import Agency
from services.grants import lock_objects
from services.grants.actions.base import S, _move, _record, _save
from services.grants.errors import (
    ApplicationInvalid,
    CycleNotApproved,
    DisbursementConflict,
    DisbursementUnknown,
)
from services.grants.models import Application, Cycle, Disbursement


@dataclass(frozen=True)
class BatchResult:
    scheduled: int
    already_scheduled: int
    without_card: int


def _disbursement_schedule(*, application_id: int, cycle: Cycle) -> str:
    """Schedule one application's payment in CYCLE unless it already is; say what happened."""
    with transaction.atomic():
        application = lock_objects.application_lock(application_id=application_id)
        if Disbursement.objects.filter(application=application, cycle=cycle).exists():
            return "already_scheduled"
        if application.status not in (S.APPROVED, S.FAILED):
            return "already_scheduled"
        if Disbursement.objects.filter(application=application, status=Disbursement.Status.PAID).exists():
            return "already_scheduled"
        card = Card.objects.filter(resident=application.resident, status=Card.Status.ACTIVE).first()
        if card is None:
            _record(application, "schedule", "no active card", outcome="not_found")
            return "without_card"
        disbursement = Disbursement(application=application, cycle=cycle, card=card, amount=application.amount)
        disbursement.full_clean(validate_constraints=False)
        disbursement.save()
        _move(application, S.SCHEDULED)
        _save(application)
        record(
            action="grants.disbursements.schedule",
            subject=application.resident,
            object=f"{application.ledger_object} cycle:{cycle.pk} {disbursement.reference}",
        )
        return "scheduled"


def cycle_batch_run(*, cycle: Cycle) -> BatchResult:
    """Schedule a payment in CYCLE for every approved (or earlier failed) application; safe to re-run.

    Each application is scheduled in its own transaction under the unique
    (application, cycle) constraint, so a batch that crashes half-way is
    simply run again and pays nobody twice.
    """
    with transaction.atomic():
        cycle = lock_objects.cycle_lock(cycle_id=cycle.pk)
        if cycle.approved_by_id is None:
            # The admin refuses this too; the task checks again so nothing pays an unapproved cycle.
            raise CycleNotApproved(f"{cycle} is not signed off yet")
        if cycle.batch_started_at is None:
            cycle.batch_started_at = timezone.now()
            cycle.save(update_fields=["batch_started_at"])
    pending = list(
        Application.objects.filter(programme_id=cycle.programme_id, status__in=(S.APPROVED, S.FAILED))
        .exclude(disbursements__cycle=cycle)
        .order_by("id")
        .values_list("id", flat=True)
    )
    counts = {"scheduled": 0, "already_scheduled": 0, "without_card": 0}
    for application_id in pending:
        counts[_disbursement_schedule(application_id=application_id, cycle=cycle)] += 1
    with transaction.atomic():
        cycle = lock_objects.cycle_lock(cycle_id=cycle.pk)
        cycle.batch_finished_at = timezone.now()
        cycle.save(update_fields=["batch_finished_at"])
    return BatchResult(**counts)


@transaction.atomic
def disbursement_confirm(
    *, reference, agency: Agency, outcome: str, bank_reference: str = "", reason: str = ""
) -> Disbursement:
    """Record the bank's confirmation that a disbursement was paid onto the card, or failed.

    Confirming again with the same outcome changes nothing; a different outcome is refused.
    """
    if outcome not in (Disbursement.Status.PAID, Disbursement.Status.FAILED):
        raise ApplicationInvalid("outcome must be paid or failed")
    try:
        disbursement = lock_objects.disbursement_lock(reference=reference)
    except Disbursement.DoesNotExist:
        raise DisbursementUnknown("no disbursement has this reference") from None
    application = disbursement.application
    if application.programme.paying_agency_id != agency.pk:
        raise DisbursementUnknown("no disbursement has this reference")
    if disbursement.status == outcome:
        record(
            action="grants.disbursements.confirm",
            subject=application.resident,
            object=f"{disbursement.reference} {outcome} again",
        )
        return disbursement
    if disbursement.status != Disbursement.Status.SCHEDULED:
        raise DisbursementConflict(f"this disbursement was already confirmed {disbursement.status}")
    disbursement.status = outcome
    disbursement.bank_reference = bank_reference[:80]
    disbursement.failure_reason = reason[:200] if outcome == Disbursement.Status.FAILED else ""
    disbursement.confirmed_at = timezone.now()
    disbursement.save()
    if outcome == Disbursement.Status.PAID:
        programme = application.programme
        card_payment_credit(
            card=disbursement.card,
            amount=disbursement.amount,
            reference=f"grants:{disbursement.reference}",
            description_en=programme.name_en,
            description_zh_hans=programme.name_zh_hans,
        )
    _move(application, outcome)
    _save(application)
    record(
        action="grants.disbursements.confirm",
        subject=application.resident,
        object=f"{disbursement.reference} {outcome}",
    )
    return disbursement


# Notifications.
