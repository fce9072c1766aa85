"""Read prescriptions with their fills, purchases, settlement and flags; functions that show resident data record it."""

import datetime
import io
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from cards.models import Resident
from cards.selectors import resident_photo_approved, resident_photo_jpeg
from cards.spreadsheet import csv_writer
from ledger.api import record, record_bulk
from services.core.models import Agency
from services.health.models import Prescription
from services.pharmacy.errors import PhotoMissing, SessionInvalid
from services.pharmacy.models import Dispensation, DispensingSession, SettlementReport, SuspiciousPatternFlag


@dataclass(frozen=True)
class DispensablePrescription:
    prescription: Prescription
    total_quantity: int  # quantity × fills allowed (× 1 for a controlled drug)
    dispensed_quantity: int
    last_fill_at: datetime.datetime | None

    @property
    def remaining_quantity(self) -> int:
        return max(0, self.total_quantity - self.dispensed_quantity)

    @property
    def next_fill_from(self) -> datetime.datetime | None:
        if self.last_fill_at is None or not self.prescription.min_fill_interval_days:
            return None
        return self.last_fill_at + datetime.timedelta(days=self.prescription.min_fill_interval_days)


def _with_fills(prescriptions) -> list[DispensablePrescription]:
    rows = []
    for prescription in prescriptions:
        fills_allowed = 1 if prescription.is_controlled else prescription.fills_allowed
        rows.append(
            DispensablePrescription(
                prescription=prescription,
                total_quantity=prescription.quantity * fills_allowed,
                dispensed_quantity=prescription.dispensed or 0,
                last_fill_at=prescription.last_fill_at,
            )
        )
    return rows


def _annotated(queryset: QuerySet[Prescription]) -> QuerySet[Prescription]:
    return queryset.annotate(dispensed=Sum("dispensations__quantity"), last_fill_at=Max("dispensations__dispensed_at"))


def prescriptions_dispensable(*, resident: Resident, now: datetime.datetime) -> list[DispensablePrescription]:
    """Return RESIDENT's prescriptions that can still be dispensed at NOW; the caller records the access."""
    open_prescriptions = Prescription.objects.filter(
        resident=resident, status=Prescription.Status.ACTIVE, valid_until__gte=timezone.localdate(now)
    ).order_by("valid_until", "id")
    return [row for row in _with_fills(_annotated(open_prescriptions)) if row.remaining_quantity > 0]


def prescription_fills_for_resident(*, resident: Resident) -> list[DispensablePrescription]:
    """Return all of RESIDENT's prescriptions with what was dispensed and what remains, newest first."""
    with transaction.atomic():
        record(action="pharmacy.prescriptions.read", subject=resident)
        prescriptions = _annotated(Prescription.objects.filter(resident=resident)).order_by("-issued_at", "-id")
        return _with_fills(prescriptions)


def dispensation_list_for_resident(*, resident: Resident) -> list[Dispensation]:
    """Return RESIDENT's purchases at every pharmacy, newest first."""
    with transaction.atomic():
        record(action="pharmacy.dispensations.read", subject=resident)
        return list(Dispensation.objects.filter(resident=resident).select_related("pharmacy"))


def dispensation_queryset() -> QuerySet[Dispensation]:
    """Return every dispensation for the regulators' list; the list records the residents shown."""
    return Dispensation.objects.select_related("resident", "pharmacy")


def flag_queryset() -> QuerySet[SuspiciousPatternFlag]:
    """Return every flag for the regulators' worklist; the list records the residents shown."""
    return SuspiciousPatternFlag.objects.select_related("resident")


SETTLEMENT_CSV_FIELDS = (
    "dispensation",
    "dispensed_at",
    "drug_code",
    "drug_name",
    "quantity",
    "price",
    "reimbursement_rate",
    "insured_share",
    "resident_share",
)


def settlement_report_csv(*, report: SettlementReport) -> str:
    """Return the dispensations behind REPORT as CSV, recording the residents they concern."""
    start = timezone.make_aware(datetime.datetime.combine(report.day, datetime.time.min))
    rows = list(
        Dispensation.objects.filter(
            pharmacy=report.pharmacy_id, dispensed_at__gte=start, dispensed_at__lt=start + datetime.timedelta(days=1)
        )
        .select_related("resident")
        .order_by("dispensed_at", "id")
    )
    with transaction.atomic():
        residents = {row.resident_id: row.resident for row in rows}
        record_bulk(action="pharmacy.settlements.export", subjects=list(residents.values()))
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(SETTLEMENT_CSV_FIELDS)
    for row in rows:
        writer.writerow(
            [
                row.pk,
                timezone.localtime(row.dispensed_at).isoformat(),
                row.drug_code,
                row.drug_name,
                row.quantity,
                row.price,
                row.reimbursement_rate,
                row.insured_share,
                row.resident_share,
            ]
        )
    return out.getvalue()


def dispensation_counts_per_day(*, days: int = 14) -> list[tuple[datetime.date, int]]:
    """Return (day, dispensations) for the last DAYS days, zeros included; aggregates only, nothing recorded."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    counts = dict(
        Dispensation.objects.filter(dispensed_at__date__gte=first)
        .annotate(day=TruncDate("dispensed_at"))
        .values("day")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("day", "count")
    )
    return [
        (first + datetime.timedelta(days=n), counts.get(first + datetime.timedelta(days=n), 0)) for n in range(days)
    ]


def _session_open_get(*, pharmacy: Agency, session_id) -> DispensingSession:
    session = (
        DispensingSession.objects.select_related("resident")
        .filter(public_id=session_id, pharmacy=pharmacy, expires_at__gt=timezone.now())
        .first()
    )
    if session is None:
        raise SessionInvalid("no open session with this id was opened by this pharmacy")
    return session


@dataclass(frozen=True)
class SessionHolder:
    session: DispensingSession
    full_name: str
    has_photo: bool


def session_holder(*, pharmacy: Agency, session_id) -> SessionHolder:
    """Return the name of an open session's cardholder and whether a card photo is approved; record the read."""
    session = _session_open_get(pharmacy=pharmacy, session_id=session_id)
    with transaction.atomic():
        record(action="pharmacy.holders.read", subject=session.resident, object=f"session:{session.public_id}")
        # Whether a photo exists, not its pixels: showing it is its own recorded view (session_photo).
        has_photo = resident_photo_approved(resident=session.resident) is not None
    return SessionHolder(session=session, full_name=session.resident.full_name, has_photo=has_photo)


def session_photo(*, pharmacy: Agency, session_id) -> bytes:
    """Return the card photo of an open session's cardholder, for the counter to compare faces; record the view."""
    session = _session_open_get(pharmacy=pharmacy, session_id=session_id)
    jpeg = resident_photo_jpeg(resident=session.resident, shown_to=f"session:{session.public_id}")
    if jpeg is None:
        raise PhotoMissing("the cardholder has no approved card photo; check their identity another way")
    return jpeg
