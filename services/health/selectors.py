"""Read coverage, visits and prescriptions; every function here records the access."""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cards.models import Resident
from ledger.api import record
from services.core.calls import AgencyCall
from services.core.selectors import resident_get_for_partner
from services.health.coverage import Coverage, coverage_on
from services.health.models import Prescription, Visit


def coverage_get_for_resident(*, resident: Resident) -> Coverage:
    """Return RESIDENT's medical insurance coverage today."""
    with transaction.atomic():
        record(action="health.coverage.read", subject=resident)
        return coverage_on(resident=resident, on=timezone.localdate())


def visit_list_for_resident(*, resident: Resident) -> list[Visit]:
    """Return RESIDENT's visits, newest first."""
    with transaction.atomic():
        record(action="health.visits.read", subject=resident)
        return list(Visit.objects.filter(resident=resident).select_related("hospital"))


def prescription_list_for_resident(*, resident: Resident, open_only: bool = False) -> list[Prescription]:
    """Return RESIDENT's prescriptions, newest first; only those still dispensable when OPEN_ONLY."""
    with transaction.atomic():
        record(action="health.prescriptions.read", subject=resident)
        prescriptions = Prescription.objects.filter(resident=resident).select_related("hospital")
        if open_only:
            prescriptions = prescriptions.filter(
                status=Prescription.Status.ACTIVE, valid_until__gte=timezone.localdate()
            )
        return list(prescriptions)


def coverage_get_for_partner(*, national_id: str, call: AgencyCall) -> Coverage:
    """Return the coverage of the resident a partner names, once consent (where the scope needs it) is checked."""
    resident = resident_get_for_partner(national_id=national_id, call=call, action="health.coverage.read")
    return coverage_get_for_resident(resident=resident)


def visit_list_for_partner(*, national_id: str, call: AgencyCall) -> list[Visit]:
    """Return the visits of the resident a partner names, once their consent is checked."""
    resident = resident_get_for_partner(national_id=national_id, call=call, action="health.visits.read")
    return visit_list_for_resident(resident=resident)


def visit_queryset() -> QuerySet[Visit]:
    """Return every visit for the officers' list; the list records the residents shown."""
    return Visit.objects.select_related("resident", "hospital")


def prescription_queryset() -> QuerySet[Prescription]:
    """Return every prescription for the officers' list; the list records the residents shown."""
    return Prescription.objects.select_related("resident", "hospital")
