"""Write grant programmes and their payment cycles."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ledger.api import record
from services.grants import lock_objects
from services.grants.actions.base import CYCLE_APPROVE_PERMISSION, DISBURSE_PERMISSION
from services.grants.errors import (
    CycleNotApproved,
    ProgrammeInvalid,
    SignOffRefused,
)
from services.grants.models import Cycle, Programme


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
