"""Read the resident register."""

from django.db.models import Q, QuerySet

from cards.crypto import national_id_lookup_hash
from cards.models import Resident
from cards.national_id import normalize_national_id
from ledger.api import record


def resident_get_by_national_id(*, national_id: str) -> Resident | None:
    """Return the resident with this national ID, found through its keyed hash."""
    lookup = national_id_lookup_hash(normalize_national_id(national_id))
    resident = Resident.objects.filter(national_id_hash=lookup).first()
    if resident is not None:
        record(action="cards.residents.lookup", subject=resident)
    return resident


def resident_search(*, term: str, queryset: QuerySet[Resident] | None = None) -> QuerySet[Resident]:
    """Return residents whose national ID equals TERM, or whose name or phone contains it."""
    queryset = Resident.objects.all() if queryset is None else queryset
    term = term.strip()
    if not term:
        return queryset
    lookup = national_id_lookup_hash(normalize_national_id(term))
    return queryset.filter(Q(national_id_hash=lookup) | Q(full_name__icontains=term) | Q(phone__contains=term))
