"""Write a resident's grant application: draft, submit, appeal."""

import functools
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from cards.models import Resident
from services.grants import lock_objects
from services.grants.actions.base import MAX_APPEALS, S, _move, _record, _save
from services.grants.errors import (
    ApplicationExists,
    ApplicationInvalid,
    ProgrammeClosed,
    TransitionNotAllowed,
)
from services.grants.models import Application, Programme


@transaction.atomic
def application_draft_create(
    *,
    programme: Programme,
    resident: Resident,
    payout_account: str,
    declared_income: Decimal | None = None,
    dependants: int = 0,
    language: str = "en",
    proxy: Resident | None = None,
) -> Application:
    """Start RESIDENT's application to PROGRAMME as a draft; one per resident and programme.

    PROXY is the family member applying on RESIDENT's behalf, if one is: the reviewer is told when
    they chose an account the resident has not been paid into before (assessment).
    """
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
        submitted_by_proxy=proxy,
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
