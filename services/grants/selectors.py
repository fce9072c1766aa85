"""Read grant programmes, applications, disbursements and reconciliation, recording reads of resident data."""

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from cards.models import Resident
from cards.spreadsheet import csv_writer
from ledger.api import record, record_bulk
from services.core.calls import AgencyCall
from services.core.selectors import resident_find_for_partner
from services.grants import rules
from services.grants.errors import DisbursementUnknown
from services.grants.models import Application, Cycle, Disbursement, Programme


def programme_list_open(*, on: datetime.date | None = None) -> list[Programme]:
    """Return the programmes taking applications on ON (today by default)."""
    on = on or timezone.localdate()
    return list(Programme.objects.filter(opens_on__lte=on, closes_on__gte=on).order_by("code"))


def programme_get_open(*, code: str) -> Programme | None:
    """Return the programme CODE if it is taking applications today."""
    return next((programme for programme in programme_list_open() if programme.code == code), None)


def application_list_for_resident(*, resident: Resident) -> list[Application]:
    """Return RESIDENT's applications with their disbursements, recording the read."""
    applications = list(
        Application.objects.filter(resident=resident)
        .select_related("programme")
        .prefetch_related("disbursements")
        .order_by("-id")
    )
    record(action="grants.applications.list", subject=resident)
    return applications


def application_get_for_resident(*, resident: Resident, application_id: int) -> Application | None:
    """Return RESIDENT's own application APPLICATION_ID, or None; record the read."""
    application = Application.objects.filter(resident=resident, pk=application_id).select_related("programme").first()
    if application is not None:
        record(action="grants.applications.read", subject=resident, object=application.ledger_object)
    return application


def application_queryset() -> QuerySet[Application]:
    """Return every application for the caseworkers' worklist; the admin records the rows it shows."""
    return Application.objects.select_related("programme", "resident", "reviewer")


@dataclass(frozen=True)
class BurnDown:
    cap: Decimal
    committed: Decimal
    scheduled: Decimal
    paid: Decimal
    applications_by_status: dict[str, int]

    @property
    def left(self) -> Decimal:
        return self.cap - self.committed

    def percent(self, amount: Decimal) -> int:
        return int(amount * 100 / self.cap) if self.cap else 0


def programme_burn_down(*, programme: Programme) -> BurnDown:
    """Return how much of PROGRAMME's budget is committed, scheduled and paid; no resident data."""
    sums = dict(
        Disbursement.objects.filter(cycle__programme=programme)
        .values_list("status")
        .annotate(total=Sum("amount"))
        .values_list("status", "total")
    )
    by_status = dict(
        Application.objects.filter(programme=programme)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    zero = Decimal("0.00")
    return BurnDown(
        cap=programme.budget_cap,
        committed=programme.budget_committed,
        scheduled=sum(sums.values(), zero),
        paid=sums.get(Disbursement.Status.PAID, zero),
        applications_by_status=by_status,
    )


@dataclass(frozen=True)
class Reconciliation:
    scheduled: tuple[int, Decimal]
    paid: tuple[int, Decimal]
    failed: tuple[int, Decimal]
    unconfirmed: tuple[int, Decimal]


def reconciliation_summary(*, cycle: Cycle) -> Reconciliation:
    """Return the count and sum of what CYCLE scheduled, and of what the bank confirmed paid, failed or not yet."""
    rows = {
        status: (n, total)
        for status, n, total in Disbursement.objects.filter(cycle=cycle)
        .values_list("status")
        .annotate(n=Count("id"), total=Sum("amount"))
        .values_list("status", "n", "total")
    }
    zero = (0, Decimal("0.00"))
    paid = rows.get(Disbursement.Status.PAID, zero)
    failed = rows.get(Disbursement.Status.FAILED, zero)
    unconfirmed = rows.get(Disbursement.Status.SCHEDULED, zero)
    scheduled = (paid[0] + failed[0] + unconfirmed[0], paid[1] + failed[1] + unconfirmed[1])
    return Reconciliation(scheduled=scheduled, paid=paid, failed=failed, unconfirmed=unconfirmed)


RECONCILIATION_COLUMNS = (
    "reference",
    "application",
    "card_number",
    "amount",
    "status",
    "scheduled_at",
    "confirmed_at",
    "bank_reference",
    "failure_reason",
)


def reconciliation_csv(*, cycle: Cycle) -> str:
    """Return every disbursement of CYCLE as CSV, recording each resident whose row it holds."""
    disbursements = list(
        Disbursement.objects.filter(cycle=cycle).select_related("card", "application__resident").order_by("id")
    )
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(RECONCILIATION_COLUMNS)
    for row in disbursements:
        writer.writerow(
            [
                row.reference,
                row.application_id,
                row.card.number,
                row.amount,
                row.status,
                row.scheduled_at.isoformat(),
                row.confirmed_at.isoformat() if row.confirmed_at else "",
                row.bank_reference,
                row.failure_reason,
            ]
        )
    record_bulk(action="grants.disbursements.export", subjects=[row.application.resident for row in disbursements])
    return out.getvalue()


def disbursement_queryset_for_agency(
    *, call: AgencyCall, status: str = Disbursement.Status.SCHEDULED
) -> QuerySet[Disbursement]:
    """Return the disbursements the calling bank pays, for the API to page; the page shown records its residents."""
    return Disbursement.objects.filter(application__programme__paying_agency=call.agency, status=status).select_related(
        "card", "cycle__programme", "application__resident"
    )


def disbursement_list_record(*, disbursements: list[Disbursement]) -> list[Disbursement]:
    """Record one read per resident of the disbursements shown to the paying bank; return them."""
    record_bulk(action="grants.disbursements.read", subjects=[row.application.resident for row in disbursements])
    return disbursements


def disbursement_get_for_agency(*, call: AgencyCall, reference) -> Disbursement:
    """Return the disbursement REFERENCE if the calling bank pays it, or raise DisbursementUnknown."""
    disbursement = (
        Disbursement.objects.filter(reference=reference, application__programme__paying_agency=call.agency)
        .select_related("application__resident")
        .first()
    )
    if disbursement is None:
        raise DisbursementUnknown("no disbursement has this reference")
    return disbursement


def eligibility_check_for_partner(
    *, national_id: str, programme: Programme, declared_income: Decimal | None, call: AgencyCall
) -> list[rules.RuleResult] | None:
    """Return how the resident NATIONAL_ID fares on PROGRAMME's rules, or None if unregistered; record the check."""
    resident = resident_find_for_partner(national_id=national_id)
    if resident is None:
        return None
    results = rules.eligibility_evaluate(
        programme=programme, resident=resident, declared_income=declared_income, on=timezone.localdate()
    )
    record(action="grants.eligibility.evaluate", subject=resident, object=f"programme:{programme.pk}")
    return results


def application_counts_by_week_and_state(*, weeks: int = 8) -> list[tuple[datetime.date, str, int]]:
    """Return (week's Monday, state, count) for the last WEEKS weeks by creation, zeros included.

    Every week of the window lists every state that occurs anywhere in it, so
    the presence of a row says nothing about one week. Aggregates only: no
    resident is shown, so nothing is recorded.
    """
    from django.db.models.functions import TruncDate

    today = timezone.localdate()
    first = today - datetime.timedelta(days=today.weekday() + 7 * (weeks - 1))
    counts: dict[tuple[datetime.date, str], int] = {}
    rows = (
        Application.objects.filter(created_at__date__gte=first)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in rows:
        monday = row["day"] - datetime.timedelta(days=row["day"].weekday())
        counts[monday, row["status"]] = counts.get((monday, row["status"]), 0) + row["count"]
    states = [status for status in Application.Status.values if any(key[1] == status for key in counts)]
    mondays = [first + datetime.timedelta(weeks=n) for n in range(weeks)]
    return [(monday, status, counts.get((monday, status), 0)) for monday in mondays for status in states]


RECIPIENT_STATES = (
    Application.Status.APPROVED,
    Application.Status.SCHEDULED,
    Application.Status.PAID,
    Application.Status.FAILED,
)


def programme_recipient_ids(*, code: str) -> list[int] | None:
    """Return the ids of residents awarded programme CODE (approved, paid or not yet); None for no such programme."""
    programme = Programme.objects.filter(code=code).first()
    if programme is None:
        return None
    rows = Application.objects.filter(programme=programme, status__in=RECIPIENT_STATES)
    return list(rows.values_list("resident_id", flat=True).distinct())
