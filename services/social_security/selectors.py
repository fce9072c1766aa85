"""Read employment, contributions, statements and claims.

Functions named ``*_for_resident`` and ``*_for_partner`` record the access.
The fact functions at the end answer one question without recording: their
callers (coverage, data checks, claim assessment) record the access they make.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from cards.models import Resident
from ledger.api import record
from services.core.calls import AgencyCall
from services.core.selectors import resident_get_for_partner
from services.social_security import statements
from services.social_security.models import Contribution, Employment, UnemploymentClaim
from services.social_security.months import month_of

STATEMENT_FORMATS = ("json", "csv", "pdf")


@dataclass(frozen=True)
class StatementLine:
    month: datetime.date
    employer_code: str
    employer_name: str
    insurance: str
    base: Decimal
    employer_amount: Decimal
    employee_amount: Decimal


@dataclass(frozen=True)
class Statement:
    resident_name: str
    national_id_masked: str
    generated_at: datetime.datetime
    lines: list[StatementLine]


def employment_list_for_resident(*, resident: Resident) -> list[Employment]:
    """Return RESIDENT's employment periods, newest first."""
    with transaction.atomic():
        record(action="social_security.employments.read", subject=resident)
        return list(Employment.objects.filter(resident=resident).select_related("employer"))


def contribution_list_for_resident(*, resident: Resident) -> list[Contribution]:
    """Return RESIDENT's contributions, newest month first."""
    with transaction.atomic():
        record(action="social_security.contributions.read", subject=resident)
        return list(Contribution.objects.filter(resident=resident).select_related("employer"))


def _statement_build(resident: Resident) -> Statement:
    rows = (
        Contribution.objects.filter(resident=resident)
        .select_related("employer")
        .order_by("month", "employer__code", "insurance")
    )
    return Statement(
        resident_name=resident.full_name,
        national_id_masked=resident.national_id_masked,
        generated_at=timezone.now(),
        lines=[
            StatementLine(
                month=row.month,
                employer_code=row.employer.code,
                employer_name=row.employer.name_zh_hans or row.employer.name_en,
                insurance=row.insurance,
                base=row.base,
                employer_amount=row.employer_amount,
                employee_amount=row.employee_amount,
            )
            for row in rows
        ],
    )


def contribution_statement(*, resident: Resident, format: str) -> Statement | bytes:
    """Return RESIDENT's contribution statement: a Statement for 'json', the file's bytes for 'csv' or 'pdf'."""
    if format not in STATEMENT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(STATEMENT_FORMATS)}")
    with transaction.atomic():
        record(action="social_security.statement.read", subject=resident, object=format)
        statement = _statement_build(resident)
    if format == "csv":
        return statements.statement_csv(statement)
    if format == "pdf":
        return statements.statement_pdf(statement)
    return statement


def contribution_statement_for_partner(*, national_id: str, format: str, call: AgencyCall) -> Statement | bytes:
    """Return the statement of the resident a partner names, once their consent is checked."""
    resident = resident_get_for_partner(national_id=national_id, call=call, action="social_security.statement.read")
    return contribution_statement(resident=resident, format=format)


def claim_list_for_resident(*, resident: Resident) -> list[UnemploymentClaim]:
    """Return RESIDENT's unemployment benefit claims, newest first."""
    with transaction.atomic():
        record(action="social_security.claims.read", subject=resident)
        return list(UnemploymentClaim.objects.filter(resident=resident))


def claim_list_for_partner(*, national_id: str, call: AgencyCall) -> list[UnemploymentClaim]:
    """Return the claims of the resident a partner names, once consent (where the scope needs it) is checked."""
    resident = resident_get_for_partner(national_id=national_id, call=call, action="social_security.claims.read")
    return claim_list_for_resident(resident=resident)


def claim_queryset() -> QuerySet[UnemploymentClaim]:
    """Return every claim for the caseworkers' list; the list records the residents shown."""
    return UnemploymentClaim.objects.select_related("resident")


# Fact functions: no recording (see the module docstring).


def contribution_month_count(*, resident: Resident, insurance: str | None = None) -> int:
    """Return how many calendar months have a contribution for RESIDENT (to INSURANCE, or to any)."""
    rows = Contribution.objects.filter(resident=resident)
    if insurance is not None:
        rows = rows.filter(insurance=insurance)
    return rows.values("month").distinct().count()


def contribution_latest_month(*, resident: Resident, insurance: str, until: datetime.date) -> datetime.date | None:
    """Return the latest month up to UNTIL with a contribution to INSURANCE for RESIDENT."""
    return (
        Contribution.objects.filter(resident=resident, insurance=insurance, month__lte=month_of(until))
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )


def unemployment_benefit_is_paid(*, resident: Resident, on: datetime.date) -> bool:
    """Return whether an approved unemployment benefit is being paid to RESIDENT on ON."""
    return UnemploymentClaim.objects.filter(
        resident=resident,
        status=UnemploymentClaim.Status.APPROVED,
        benefit_starts_on__lte=on,
        benefit_ends_on__gt=on,
    ).exists()


def resident_ids_with_contribution_months(*, months: int) -> list[int]:
    """Return the ids of residents with contributions for at least MONTHS calendar months (any insurance)."""
    return list(
        Contribution.objects.values("resident_id")
        .annotate(months=Count("month", distinct=True))
        .filter(months__gte=months)
        .values_list("resident_id", flat=True)
    )
