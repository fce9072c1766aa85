"""Review, recommend, approve and reject applications under the four-eyes rules."""

from django.db import transaction
from django.utils import timezone

from services.grants import lock_objects, rules
from services.grants.actions.base import APPROVE_PERMISSION, REVIEW_PERMISSION, S, _move, _record, _save
from services.grants.errors import (
    ApplicationInvalid,
    BudgetExceeded,
    SignOffRefused,
    TransitionNotAllowed,
)
from services.grants.models import Application, SignOff


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
