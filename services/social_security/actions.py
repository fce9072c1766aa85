"""Write employment periods, contributions and unemployment benefit claims."""

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from cards.models import Resident
from ledger.api import record, record_bulk
from services.core.models import Agency
from services.social_security import rules
from services.social_security.batches import (
    Problems,
    contribution_items_parse,
    employment_items_parse,
    items_check,
    residents_attach,
)
from services.social_security.errors import BatchRejected, ClaimAlreadyOpen, ClaimInvalid, ClaimNotDecidable
from services.social_security.models import Contribution, Employment, Insurance, UnemploymentClaim
from services.social_security.months import date_add_months, month_add, month_label, month_of

_BULK = 5000


@dataclass(frozen=True)
class BatchResult:
    items: int
    rows: int


def _employer_check(employer: Agency, problems: Problems) -> None:
    if employer.kind != Agency.Kind.EMPLOYER:
        problems.append((None, "employer", f"{employer.code} is not an employer"))


def _rejection_record(*, action: str, rejected: BatchRejected) -> None:
    """Record a rejected batch for each registered resident it named, outside the rolled-back transaction.

    The problems name each national ID nobody holds, so an employer learns who is
    registered from a rejected batch; each resident so learned about sees it in
    their history (docs/api.md, "Employer batches").
    """
    if rejected.residents:
        with transaction.atomic():
            record_bulk(action=action, subjects=rejected.residents, outcome="invalid")


def employments_report(*, employer: Agency, items: list) -> BatchResult:
    """Save every employment period in ITEMS for EMPLOYER, or raise BatchRejected and save none.

    An item with the same resident and start date as one already reported replaces its end date.
    A rejected batch is recorded, as refused, for every registered resident it named.
    """
    try:
        return _employments_save(employer=employer, items=items)
    except BatchRejected as rejected:
        _rejection_record(action="social_security.employments.report", rejected=rejected)
        raise


@transaction.atomic
def _employments_save(*, employer: Agency, items: list) -> BatchResult:
    problems: Problems = []
    _employer_check(employer, problems)
    items = items_check(items, problems)
    parsed = employment_items_parse(items or [], problems)
    residents_attach(parsed, problems)
    if problems:
        raise BatchRejected(problems, residents=[item.resident for item in parsed if item.resident is not None])
    now = timezone.now()
    rows = [
        Employment(
            resident=item.resident,
            employer=employer,
            started_on=item.started_on,
            ended_on=item.ended_on,
            reported_at=now,
        )
        for item in parsed
    ]
    Employment.objects.bulk_create(
        rows,
        batch_size=_BULK,
        update_conflicts=True,
        unique_fields=["resident", "employer", "started_on"],
        update_fields=["ended_on", "reported_at"],
    )
    record_bulk(action="social_security.employments.report", subjects=[item.resident for item in parsed])
    return BatchResult(items=len(parsed), rows=len(rows))


def _employment_gaps(employer: Agency, parsed, problems: Problems) -> None:
    """Note every item whose month no employment period of EMPLOYER covers."""
    periods: dict[int, list[tuple[datetime.date, datetime.date | None]]] = defaultdict(list)
    resident_ids = list({item.resident.pk for item in parsed})
    for start in range(0, len(resident_ids), 900):
        for resident_id, started_on, ended_on in Employment.objects.filter(
            employer=employer, resident_id__in=resident_ids[start : start + 900]
        ).values_list("resident_id", "started_on", "ended_on"):
            periods[resident_id].append((month_of(started_on), ended_on and month_of(ended_on)))
    for item in parsed:
        if not any(
            started <= item.month and (ended is None or item.month <= ended)
            for started, ended in periods[item.resident.pk]
        ):
            problems.append(
                (
                    item.index,
                    "month",
                    f"no employment period reported by {employer.code} covers {month_label(item.month)}",
                )
            )


def contributions_report(*, employer: Agency, items: list) -> BatchResult:
    """Save every month of contributions in ITEMS for EMPLOYER, or raise BatchRejected and save none.

    Reporting a resident's month again replaces the amounts for the insurances it names.
    A rejected batch is recorded, as refused, for every registered resident it named.
    """
    try:
        return _contributions_save(employer=employer, items=items)
    except BatchRejected as rejected:
        _rejection_record(action="social_security.contributions.report", rejected=rejected)
        raise


@transaction.atomic
def _contributions_save(*, employer: Agency, items: list) -> BatchResult:
    problems: Problems = []
    _employer_check(employer, problems)
    items = items_check(items, problems)
    parsed = contribution_items_parse(items or [], problems)
    residents_attach(parsed, problems)
    _employment_gaps(employer, [item for item in parsed if item.resident is not None], problems)
    if problems:
        raise BatchRejected(problems, residents=[item.resident for item in parsed if item.resident is not None])
    now = timezone.now()
    rows = [
        Contribution(
            resident=item.resident,
            employer=employer,
            month=item.month,
            insurance=insurance,
            base=item.base,
            employer_amount=employer_share,
            employee_amount=employee_share,
            reported_at=now,
        )
        for item in parsed
        for insurance, (employer_share, employee_share) in item.shares.items()
    ]
    Contribution.objects.bulk_create(
        rows,
        batch_size=_BULK,
        update_conflicts=True,
        unique_fields=["resident", "employer", "month", "insurance"],
        update_fields=["base", "employer_amount", "employee_amount", "reported_at"],
    )
    record_bulk(action="social_security.contributions.report", subjects=[item.resident for item in parsed])
    return BatchResult(items=len(parsed), rows=len(rows))


@transaction.atomic
def unemployment_claim_submit(
    *, resident: Resident, unemployed_since: datetime.date, reason: str = ""
) -> UnemploymentClaim:
    """File RESIDENT's claim for unemployment benefit and queue its assessment."""
    if unemployed_since > timezone.localdate():
        raise ClaimInvalid("the date unemployment began must not be in the future")
    # Lock the resident so two submissions at once cannot both pass the open-claim check.
    Resident.objects.select_for_update().filter(pk=resident.pk).first()
    if UnemploymentClaim.objects.filter(resident=resident, status__in=UnemploymentClaim.OPEN_STATUSES).exists():
        raise ClaimAlreadyOpen("a claim is already awaiting assessment or a decision")
    claim = UnemploymentClaim(resident=resident, unemployed_since=unemployed_since, reason=reason)
    claim.full_clean()
    claim.save()
    record(action="social_security.claims.submit", subject=resident, object=f"claim:{claim.pk}")
    from services.social_security.tasks import unemployment_claim_assess_task

    transaction.on_commit(functools.partial(unemployment_claim_assess_task.delay, claim.pk))
    return claim


def _unemployment_history(*, resident: Resident, before: datetime.date) -> list[Decimal]:
    """Return the summed monthly unemployment-insurance bases in the window before BEFORE, newest first."""
    window_start = month_add(month_of(before), -rules.WINDOW_MONTHS)
    return [
        total
        for _month, total in Contribution.objects.filter(
            resident=resident,
            insurance=Insurance.UNEMPLOYMENT,
            month__gte=window_start,
            month__lt=month_of(before),
        )
        .values("month")
        .annotate(total=Sum("base"))
        .order_by("-month")
        .values_list("month", "total")
    ]


@transaction.atomic
def unemployment_claim_assess(*, claim: UnemploymentClaim) -> UnemploymentClaim:
    """Compute CLAIM's entitlement from the contribution history under the documented rule."""
    claim = UnemploymentClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != UnemploymentClaim.Status.SUBMITTED:
        return claim
    bases = _unemployment_history(resident=claim.resident, before=claim.unemployed_since)
    claim.contribution_months = len(bases)
    claim.entitled_months = rules.entitled_months(len(bases))
    recent = bases[: rules.AVERAGE_OVER_MONTHS]
    claim.average_base = (sum(recent, Decimal("0")) / len(recent)).quantize(Decimal("0.01")) if recent else None
    claim.monthly_amount = rules.monthly_benefit(bases) if claim.entitled_months else Decimal("0.00")
    claim.status = UnemploymentClaim.Status.ASSESSED if claim.entitled_months else UnemploymentClaim.Status.INELIGIBLE
    claim.assessed_at = timezone.now()
    claim.full_clean()
    claim.save()
    record(
        action="social_security.claims.assess",
        subject=claim.resident,
        object=f"claim:{claim.pk}:{claim.status}",
    )
    return claim


@transaction.atomic
def unemployment_claim_decide(
    *, claim: UnemploymentClaim, approve: bool, decided_by, note: str = ""
) -> UnemploymentClaim:
    """Approve or reject an assessed CLAIM; an approved benefit is paid from today for the months assessed."""
    claim = UnemploymentClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != UnemploymentClaim.Status.ASSESSED:
        raise ClaimNotDecidable(f"only an assessed claim can be decided; this one is {claim.get_status_display()}")
    claim.status = UnemploymentClaim.Status.APPROVED if approve else UnemploymentClaim.Status.REJECTED
    claim.decided_at = timezone.now()
    claim.decided_by = decided_by
    claim.decision_note = note
    if approve:
        claim.benefit_starts_on = timezone.localdate()
        claim.benefit_ends_on = date_add_months(claim.benefit_starts_on, claim.entitled_months)
    claim.full_clean()
    claim.save()
    record(action="social_security.claims.decide", subject=claim.resident, object=f"claim:{claim.pk}:{claim.status}")
    return claim
