"""Celery tasks of grants: each loads ids, opens a system access context and calls one action."""

from celery import shared_task

from ledger.api import Actor, access_context
from services.grants.actions import application_assess, application_notify, cycle_batch_run
from services.grants.models import Application, Cycle


def _system(component: str):
    return access_context(
        actor=Actor(type="system", id=component), role="system", channel="task", purpose="grant-administration"
    )


@shared_task(ignore_result=True)
def application_assess_task(application_id: int) -> None:
    """Run the automatic eligibility check of one submitted application."""
    application = Application.objects.filter(pk=application_id).first()
    if application is None:
        return
    with _system("grants-eligibility"):
        application_assess(application=application)


@shared_task(ignore_result=True)
def application_notify_task(application_id: int, status: str) -> None:
    """Email the resident about one change of their application."""
    application = Application.objects.select_related("resident", "programme").filter(pk=application_id).first()
    if application is None:
        return
    with _system("grants-notifier"):
        application_notify(application=application, status=status)


@shared_task(ignore_result=True, acks_late=True)
def cycle_batch_run_task(cycle_id: int) -> None:
    """Run (or re-run after a crash) the disbursement batch of one cycle."""
    cycle = Cycle.objects.filter(pk=cycle_id).first()
    if cycle is None:
        return
    with _system("grants-disbursement"):
        cycle_batch_run(cycle=cycle)
