"""Row locks for dispensing.

Lock order, always:
  1. the resident row (cards.Resident);
  2. the dispensing session row;
  3. the prescription row (health.Prescription), when the fill is against one.

Every limit is per resident (remaining quantity, interval, controlled caps,
over-the-counter limits, the pharmacy-hopping flag), so the resident lock alone
serialises two pharmacies dispensing to the same person at the same moment,
and the totals each rule sums are read after it is held. The cards app takes
the resident before its cards in the same way, so the two never deadlock.
Traceability codes take no lock: their unique constraint decides, and the
second insert of a code waits for the first transaction and then fails.
"""

from cards.models import Resident
from services.health.models import Prescription
from services.pharmacy.models import DispensingSession


def resident_lock(*, resident_id: int) -> Resident:
    """Lock and return the resident; take it before any dispensing row of theirs."""
    return Resident.objects.select_for_update().get(pk=resident_id)


def session_lock(*, session_id: int) -> DispensingSession:
    """Lock and return the session; the resident must be locked first."""
    return (
        DispensingSession.objects.select_for_update(of=("self",)).select_related("pharmacy", "card").get(pk=session_id)
    )


def prescription_lock(*, prescription_id: int) -> Prescription:
    """Lock and return the prescription; the resident and session must be locked first."""
    return Prescription.objects.select_for_update().get(pk=prescription_id)
