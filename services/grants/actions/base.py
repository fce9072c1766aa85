"""What every grants action shares: the states an application may move between, permissions and recording."""

import functools

from django.core.exceptions import ValidationError
from django.db import transaction

from ledger.api import record
from services.grants.errors import (
    ApplicationInvalid,
    TransitionNotAllowed,
)
from services.grants.models import Application

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
