"""Write to the resident register and the cards it issues."""

from collections.abc import Callable, Iterable, Iterator

from django.db import transaction

from cards.crypto import national_id_lookup_hash
from cards.errors import ImportRejected, ResidentAlreadyRegistered, ResidentInvalid
from cards.models import Resident
from cards.validation import resident_fields_clean
from ledger.api import record, record_bulk

IMPORT_FIELDS = ("national_id", "full_name", "phone", "email")
_IMPORT_BATCH = 2000
_LOOKUP_CHUNK = 900


@transaction.atomic
def resident_register(*, national_id: str, full_name: str, phone: str = "", email: str = "", user=None) -> Resident:
    """Add one resident to the register."""
    cleaned, errors = resident_fields_clean(national_id=national_id, full_name=full_name, phone=phone, email=email)
    if errors:
        raise ResidentInvalid(errors)
    resident = Resident(full_name=cleaned["full_name"], phone=cleaned["phone"], email=cleaned["email"], user=user)
    resident.set_national_id(cleaned["national_id"])
    if Resident.objects.filter(national_id_hash=resident.national_id_hash).exists():
        raise ResidentAlreadyRegistered("a resident with this national ID is already registered")
    resident.full_clean(exclude=["national_id_hash"])
    resident.save()
    record(action="cards.residents.create", subject=resident)
    return resident


@transaction.atomic
def resident_update_contact(*, resident: Resident, full_name: str, phone: str, email: str) -> Resident:
    """Change a resident's name and contact details."""
    cleaned, errors = resident_fields_clean(
        national_id=resident.national_id, full_name=full_name, phone=phone, email=email
    )
    if errors:
        raise ResidentInvalid(errors)
    resident.full_name, resident.phone, resident.email = cleaned["full_name"], cleaned["phone"], cleaned["email"]
    resident.full_clean()
    resident.save(update_fields=["full_name", "phone", "email", "updated_at"])
    record(action="cards.residents.update", subject=resident)
    return resident


def residents_import(
    *,
    rows: Iterable[tuple[int, dict[str, str]]],
    dry_run: bool = False,
    progress: Callable[[Iterable], Iterator] = iter,
) -> int:
    """Validate every (line, row) and save them all, or raise ImportRejected and save none."""
    problems: list[tuple[int, str, str]] = []
    pending: list[tuple[int, Resident]] = []
    first_line_of: dict[str, int] = {}
    for line, row in progress(rows):
        cleaned, errors = resident_fields_clean(
            national_id=row.get("national_id", ""),
            full_name=row.get("full_name", ""),
            phone=row.get("phone", ""),
            email=row.get("email", ""),
        )
        problems.extend((line, field, message) for field, message in errors.items())
        if "national_id" in errors:
            continue
        lookup = national_id_lookup_hash(cleaned["national_id"])
        if lookup in first_line_of:
            problems.append((line, "national_id", f"duplicate of line {first_line_of[lookup]}"))
            continue
        first_line_of[lookup] = line
        if errors:
            continue
        resident = Resident(full_name=cleaned["full_name"], phone=cleaned["phone"], email=cleaned["email"])
        resident.set_national_id(cleaned["national_id"])
        pending.append((line, resident))

    hashes = list(first_line_of)
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = hashes[start : start + _LOOKUP_CHUNK]
        for existing in Resident.objects.filter(national_id_hash__in=chunk).values_list("national_id_hash", flat=True):
            problems.append((first_line_of[existing], "national_id", "already registered"))

    if problems:
        raise ImportRejected(sorted(problems))
    if dry_run:
        return len(pending)
    with transaction.atomic():
        residents = [resident for _, resident in pending]
        for start in range(0, len(residents), _IMPORT_BATCH):
            Resident.objects.bulk_create(residents[start : start + _IMPORT_BATCH])
        record_bulk(action="cards.residents.create", subjects=residents)
    return len(pending)
