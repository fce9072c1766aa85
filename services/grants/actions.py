"""Write grant programmes, applications, sign-offs and disbursements.

Sign-off rules (four eyes), enforced here by user identity and permission,
whatever the page or endpoint that calls:
- a reviewer holds ``grants.review_application``; an approver holds
  ``grants.approve_application``;
- nobody reviews, approves or rejects their own application;
- an approver is never the reviewer of the same round, and two approvers of
  one round are different people (also a unique constraint);
- after an appeal the reviewer is someone who has not reviewed it before.
"""

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cards.actions import card_payment_credit
from cards.models import Card, Resident
from ledger.api import record
from services.core.models import Agency
from services.grants import lock_objects, rules
from services.grants.errors import (
    ApplicationExists,
    ApplicationInvalid,
    BudgetExceeded,
    CycleNotApproved,
    DisbursementConflict,
    DisbursementUnknown,
    ProgrammeClosed,
    ProgrammeInvalid,
    SignOffRefused,
    TransitionNotAllowed,
)
from services.grants.models import Application, Cycle, Disbursement, Programme, SignOff

S = Application.Status
MAX_APPEALS = 1

# Every allowed change of state; anything else raises TransitionNotAllowed.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.SUBMITTED,),
    S.SUBMITTED: (S.ELIGIBLE, S.INELIGIBLE),
    S.ELIGIBLE: (S.UNDER_REVIEW,),
    S.INELIGIBLE: (S.UNDER_REVIEW,),
    S.UNDER_REVIEW: (S.APPROVED, S.REJECTED),
    S.REJECTED: (S.UNDER_REVIEW,),
    S.APPROVED: (S.SCHEDULED,),
    S.SCHEDULED: (S.PAID, S.FAILED),
    S.FAILED: (S.SCHEDULED,),
    S.PAID: (),
}
REVIEW_PERMISSION = "grants.review_application"
APPROVE_PERMISSION = "grants.approve_application"
DISBURSE_PERMISSION = "grants.run_disbursement"
CYCLE_APPROVE_PERMISSION = "grants.approve_cycle"


def _record(application: Application, verb: str, detail: str = "", outcome: str = "ok") -> None:
    record(
        action=f"grants.applications.{verb}",
        subject=application.resident,
        object=f"{application.ledger_object} {application.status}{' ' + detail if detail else ''}",
        outcome=outcome,
    )


def _move(application: Application, to: str) -> None:
    """Change APPLICATION's status to TO, or raise; queue the resident's notification after commit."""
    if to not in TRANSITIONS[application.status]:
        raise TransitionNotAllowed(status=application.status, to=to)
    application.status = to
    from services.grants.tasks import application_notify_task

    transaction.on_commit(functools.partial(application_notify_task.delay, application.pk, to))


def _save(application: Application) -> None:
    try:
        application.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise ApplicationInvalid("; ".join(error.messages)) from None
    application.save()


# Programmes and cycles.


@transaction.atomic
def programme_save(*, programme: Programme, user=None) -> Programme:
    """Create or change a programme; the budget cap can never drop below what is already committed."""
    if programme.pk is not None:
        locked = lock_objects.programme_lock(programme_id=programme.pk)
        programme.budget_committed = locked.budget_committed
    elif user is not None:
        programme.created_by = user
    if programme.budget_cap is not None and programme.budget_cap < programme.budget_committed:
        raise ProgrammeInvalid(f"the budget cap cannot drop below the {programme.budget_committed} already committed")
    try:
        programme.full_clean()
    except ValidationError as error:
        raise ProgrammeInvalid("; ".join(error.messages)) from None
    programme.save()
    record(action="grants.programmes.save", subject=f"programme:{programme.pk}", object=programme.code)
    return programme


@transaction.atomic
def cycle_create(*, programme: Programme, pays_on: datetime.date, user) -> Cycle:
    """Open the next payment cycle of PROGRAMME for USER; another caseworker signs it off before it pays."""
    lock_objects.programme_lock(programme_id=programme.pk)
    last = Cycle.objects.filter(programme=programme).order_by("-number").values_list("number", flat=True).first()
    cycle = Cycle(programme=programme, number=(last or 0) + 1, pays_on=pays_on, created_by=user)
    cycle.full_clean()
    cycle.save()
    record(action="grants.cycles.create", subject=f"programme:{programme.pk}", object=f"cycle:{cycle.pk}")
    return cycle


def _cycle_lock_for(*, cycle: Cycle, user, permission: str) -> Cycle:
    cycle = lock_objects.cycle_lock(cycle_id=cycle.pk)
    if not user.has_perm(permission):
        raise SignOffRefused(f"this step needs the permission {permission}")
    return cycle


@transaction.atomic
def cycle_approve(*, cycle: Cycle, user) -> Cycle:
    """Sign off CYCLE for payment: USER needs the permission and must not be the one who opened it."""
    cycle = _cycle_lock_for(cycle=cycle, user=user, permission=CYCLE_APPROVE_PERMISSION)
    if cycle.created_by_id == user.pk:
        raise SignOffRefused("a payment cycle is signed off by someone other than the one who opened it")
    if cycle.approved_by_id is not None:
        raise SignOffRefused("this payment cycle is already signed off")
    cycle.approved_by, cycle.approved_at = user, timezone.now()
    cycle.full_clean()
    cycle.save(update_fields=["approved_by", "approved_at"])
    record(action="grants.cycles.approve", subject=f"programme:{cycle.programme_id}", object=f"cycle:{cycle.pk}")
    return cycle


@transaction.atomic
def cycle_batch_queue(*, cycle: Cycle, user) -> Cycle:
    """Queue CYCLE's disbursement batch for USER, who needs the permission and did not sign the cycle off."""
    from services.grants.tasks import cycle_batch_run_task

    cycle = _cycle_lock_for(cycle=cycle, user=user, permission=DISBURSE_PERMISSION)
    if cycle.approved_by_id is None:
        raise CycleNotApproved(f"{cycle} is not signed off yet")
    if cycle.approved_by_id == user.pk:
        raise SignOffRefused("the batch is run by someone other than the one who signed the cycle off")
    record(action="grants.cycles.queue", subject=f"programme:{cycle.programme_id}", object=f"cycle:{cycle.pk}")
    transaction.on_commit(lambda: cycle_batch_run_task.delay(cycle.pk))
    return cycle


# Applications: the resident's side.


@transaction.atomic
def application_draft_create(
    *,
    programme: Programme,
    resident: Resident,
    payout_account: str,
    declared_income: Decimal | None = None,
    dependants: int = 0,
    language: str = "en",
) -> Application:
    """Start RESIDENT's application to PROGRAMME as a draft; one per resident and programme."""
    if not programme.is_open():
        raise ProgrammeClosed(f"{programme.code} takes applications from {programme.opens_on} to {programme.closes_on}")
    if Application.objects.filter(programme=programme, resident=resident).exists():
        raise ApplicationExists("you have already applied to this programme")
    application = Application(
        programme=programme,
        resident=resident,
        payout_account=payout_account.strip(),
        declared_income=declared_income,
        dependants=dependants,
        language=(language or "en")[:10],
    )
    _save_new(application)
    _record(application, "create")
    return application


def _save_new(application: Application) -> None:
    try:
        with transaction.atomic():
            _save(application)
    except IntegrityError:
        # The unique (programme, resident) constraint: a second click or a second tab.
        raise ApplicationExists("you have already applied to this programme") from None


@transaction.atomic
def application_submit(*, application: Application) -> Application:
    """Submit a draft application and queue its automatic eligibility check."""
    application = lock_objects.application_lock(application_id=application.pk)
    _move(application, S.SUBMITTED)
    application.submitted_at = timezone.now()
    _save(application)
    _record(application, "submit")
    from services.grants.tasks import application_assess_task

    transaction.on_commit(functools.partial(application_assess_task.delay, application.pk))
    return application


def application_apply(**fields) -> Application:
    """Create an application and submit it at once, as the portal form does."""
    with transaction.atomic():
        application = application_draft_create(**fields)
        return application_submit(application=application)


@transaction.atomic
def application_appeal(*, application: Application, reason: str) -> Application:
    """Reopen a rejected or ineligible application for a reviewer who has not seen it before."""
    application = lock_objects.application_lock(application_id=application.pk)
    if application.status not in (S.REJECTED, S.INELIGIBLE):
        raise TransitionNotAllowed(status=application.status, to="appealed")
    if application.round > MAX_APPEALS:
        raise ApplicationInvalid("this application has already been appealed")
    if not reason.strip():
        raise ApplicationInvalid("say why the decision should be looked at again")
    _move(application, S.UNDER_REVIEW)
    if application.reviewer_id is not None:
        application.past_reviewer_ids = [*application.past_reviewer_ids, application.reviewer_id]
    application.reviewer = None
    application.reviewed_at = None
    application.round += 1
    application.appeal_reason = reason.strip()
    _save(application)
    _record(application, "appeal", f"round {application.round}")
    return application


# The automatic check.


def _shared_details(application: Application) -> list[str]:
    """Return flags for the reviewer: a phone number or payout account another resident also uses."""
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
    application.flags = _shared_details(application)
    _move(application, S.ELIGIBLE if all(check["passed"] for check in checks) else S.INELIGIBLE)
    _save(application)
    _record(application, "assess", ",".join(application.flags))
    return application


# Caseworkers' steps.


def _staff_check(*, user, application: Application, permission: str) -> None:
    if not user.has_perm(permission):
        raise SignOffRefused(f"this step needs the permission {permission}")
    if application.resident.user_id is not None and application.resident.user_id == user.pk:
        raise SignOffRefused("nobody may decide their own application")


@transaction.atomic
def application_review_start(*, application: Application, user) -> Application:
    """Take an eligible (or appealed) application for review."""
    application = lock_objects.application_lock(application_id=application.pk)
    _staff_check(user=user, application=application, permission=REVIEW_PERMISSION)
    if user.pk in application.past_reviewer_ids:
        raise SignOffRefused("an appeal goes to a reviewer who has not reviewed this application before")
    reopened = application.status == S.UNDER_REVIEW and application.reviewer_id is None
    if not reopened:
        if application.status != S.ELIGIBLE:
            raise TransitionNotAllowed(status=application.status, to=S.UNDER_REVIEW)
        _move(application, S.UNDER_REVIEW)
    application.reviewer = user
    _save(application)
    _record(application, "review_start")
    return application


def _reason_check(reason: str) -> str:
    if not reason or not reason.strip():
        raise ApplicationInvalid("a reason is required")
    return reason.strip()


@transaction.atomic
def application_recommend(*, application: Application, user, reason: str) -> Application:
    """Record the reviewer's recommendation to approve; approvers sign next."""
    reason = _reason_check(reason)
    application = lock_objects.application_lock(application_id=application.pk)
    _staff_check(user=user, application=application, permission=REVIEW_PERMISSION)
    if application.status != S.UNDER_REVIEW or application.reviewed_at is not None:
        raise TransitionNotAllowed(status=application.status, to="recommended")
    if application.reviewer_id != user.pk:
        raise SignOffRefused("only the reviewer who took the application may recommend it")
    SignOff.objects.create(
        application=application, round=application.round, step=SignOff.Step.REVIEW, user=user, reason=reason
    )
    application.reviewed_at = timezone.now()
    application.decision_reason = reason
    _save(application)
    _record(application, "recommend")
    return application


def approvals_of(application: Application) -> list[SignOff]:
    """Return the approvals signed in the application's current round."""
    return list(application.sign_offs.filter(round=application.round, step=SignOff.Step.APPROVAL))


@transaction.atomic
def application_approve(*, application: Application, user, reason: str) -> Application:
    """Sign an approval; the last approval the amount needs approves it within the programme's budget."""
    reason = _reason_check(reason)
    # The programme row is locked first: it serialises approvals against the budget.
    application = lock_objects.application_lock(application_id=application.pk)
    programme = application.programme
    _staff_check(user=user, application=application, permission=APPROVE_PERMISSION)
    if application.status != S.UNDER_REVIEW or application.reviewed_at is None:
        raise TransitionNotAllowed(status=application.status, to=S.APPROVED)
    if application.reviewer_id == user.pk:
        raise SignOffRefused("the reviewer of an application cannot also approve it")
    signed = approvals_of(application)
    if any(sign_off.user_id == user.pk for sign_off in signed):
        raise SignOffRefused("a second approval must come from a different approver")
    if not application.amount or application.amount <= 0:
        raise ApplicationInvalid("the application has no amount to approve")
    SignOff.objects.create(
        application=application, round=application.round, step=SignOff.Step.APPROVAL, user=user, reason=reason
    )
    needed = rules.approvers_required(programme=programme, amount=application.amount)
    if len(signed) + 1 < needed:
        _record(application, "approve", f"sign-off {len(signed) + 1} of {needed}")
        return application
    if programme.budget_committed + application.amount > programme.budget_cap:
        _record(application, "approve", "budget exhausted", outcome="denied")
        raise BudgetExceeded(
            f"approving {application.amount} would exceed the budget: {programme.budget_left} of "
            f"{programme.budget_cap} left"
        )
    programme.budget_committed += application.amount
    programme.save(update_fields=["budget_committed"])
    _move(application, S.APPROVED)
    application.decided_at = timezone.now()
    application.decision_reason = reason
    _save(application)
    _record(application, "approve", f"sign-off {needed} of {needed}")
    return application


@transaction.atomic
def application_reject(*, application: Application, user, reason: str) -> Application:
    """Reject an application under review: by its reviewer, or by an approver after the review."""
    reason = _reason_check(reason)
    application = lock_objects.application_lock(application_id=application.pk)
    if application.status != S.UNDER_REVIEW:
        raise TransitionNotAllowed(status=application.status, to=S.REJECTED)
    if application.reviewer_id == user.pk:
        _staff_check(user=user, application=application, permission=REVIEW_PERMISSION)
    else:
        _staff_check(user=user, application=application, permission=APPROVE_PERMISSION)
        if application.reviewed_at is None:
            raise SignOffRefused("an approver decides only after the reviewer has recommended")
    SignOff.objects.create(
        application=application, round=application.round, step=SignOff.Step.REJECTION, user=user, reason=reason
    )
    _move(application, S.REJECTED)
    application.decided_at = timezone.now()
    application.decision_reason = reason
    _save(application)
    _record(application, "reject")
    return application


# Disbursement.


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
