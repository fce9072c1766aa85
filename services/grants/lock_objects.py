"""Row locks for grant actions.

Lock order, always: the programme row first, then its cycle, then application
rows in ascending id, then their disbursements. The programme row is the
budget's lock: every approval takes it before reading the committed total, so
concurrent approvals queue on it and can never overrun the cap together.
"""

from services.grants.models import Application, Cycle, Disbursement, Programme


def programme_lock(*, programme_id: int) -> Programme:
    """Lock and return the programme; take this before any of its cycles or applications."""
    return Programme.objects.select_for_update().get(pk=programme_id)


def cycle_lock(*, cycle_id: int) -> Cycle:
    """Lock the cycle's programme, then the cycle, and return the fresh cycle."""
    programme_id = Cycle.objects.values_list("programme_id", flat=True).get(pk=cycle_id)
    programme_lock(programme_id=programme_id)
    return Cycle.objects.select_for_update().select_related("programme").get(pk=cycle_id)


def application_lock(*, application_id: int, with_programme: bool = True) -> Application:
    """Lock the application's programme (unless already held), then the application, and return it fresh."""
    if with_programme:
        programme_id = Application.objects.values_list("programme_id", flat=True).get(pk=application_id)
        programme_lock(programme_id=programme_id)
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("programme", "resident")
        .get(pk=application_id)
    )


def disbursement_lock(*, reference) -> Disbursement:
    """Lock the programme, the application, then the disbursement REFERENCE names, and return it."""
    application_id = Disbursement.objects.values_list("application_id", flat=True).get(reference=reference)
    application = application_lock(application_id=application_id)
    disbursement = Disbursement.objects.select_for_update(of=("self",)).select_related("card").get(reference=reference)
    disbursement.application = application
    return disbursement
