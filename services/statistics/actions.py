"""Publish trend tables under differential privacy, within each period's privacy budget.

Lock order: the period's PeriodBudget row, then nothing else. Every publish of
a period queues on that row, so the check "spent + rho <= limit" and the spend
happen as one step, and a table already released is found and returned before
any noise is drawn: a release is final, never redrawn.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.api import record_bulk
from services.statistics.errors import BudgetExhausted, PeriodNotClosed, TableUnknown
from services.statistics.mechanisms import MECHANISM, noise_calibrate
from services.statistics.models import PeriodBudget, Release
from services.statistics.periods import Period
from services.statistics.tables import RELEASE_ACTION, TABLES, register_at_end, resident_subject

# Residents recorded per INSERT batch of the ledger's pending table.
RECORD_BATCH = 50_000


@dataclass(frozen=True)
class Published:
    """The releases a publish returns: NEW were made by this call, the others were already final."""

    releases: list[Release]
    new: list[Release]


def table_rho(code: str, limit: Decimal) -> Decimal:
    """Return the rho table CODE spends: its share of LIMIT."""
    return (Decimal(str(settings.ONECARD_STATISTICS_TABLE_SHARES[code])) * limit).quantize(Decimal("1e-9"))


def _budget_locked(period: Period) -> PeriodBudget:
    limit = Decimal(str(settings.ONECARD_STATISTICS_RHO_PER_PERIOD))
    try:
        with transaction.atomic():
            PeriodBudget.objects.get_or_create(period=str(period), defaults={"limit_rho": limit})
    except IntegrityError:
        pass  # another publish created it first
    return PeriodBudget.objects.select_for_update().get(period=str(period))


@transaction.atomic
def period_publish(*, period: Period, tables: list[str] | None = None, now=None) -> Published:
    """Publish TABLES (default: all) of the closed PERIOD, or return them as already released.

    All or nothing: when the tables not yet released need more rho than the
    period has left, raise BudgetExhausted and publish none of them.
    """
    codes = list(TABLES) if tables is None else list(dict.fromkeys(tables))
    for code in codes:
        if code not in TABLES:
            raise TableUnknown(f"no table {code!r}; tables: {', '.join(TABLES)}")
    if (now or timezone.now()) < period.closes_at:
        raise PeriodNotClosed(
            f"period {period} has not closed: its last day or ISO week ends at {period.closes_at:%Y-%m-%d %H:%M %Z}"
        )
    budget = _budget_locked(period)
    existing = {release.table: release for release in Release.objects.filter(period=str(period), table__in=codes)}
    missing = [code for code in codes if code not in existing]
    needed = sum((table_rho(code, budget.limit_rho) for code in missing), Decimal(0))
    if budget.spent_rho + needed > budget.limit_rho:
        raise BudgetExhausted(period=str(period), needed=needed, spent=budget.spent_rho, limit=budget.limit_rho)
    new, counted = [], set()
    for code in missing:
        release, residents = _release_make(code=code, period=period, rho=table_rho(code, budget.limit_rho))
        new.append(release)
        counted |= residents
    if new:
        budget.spent_rho += needed
        budget.save(update_fields=["spent_rho"])
        _releases_record(
            period=period, codes=[release.table for release in new], residents=register_at_end(period) | counted
        )
    releases = {release.table: release for release in [*existing.values(), *new]}
    return Published(releases=[releases[code] for code in codes], new=new)


def _release_make(*, code: str, period: Period, rho: Decimal) -> tuple[Release, set[int]]:
    table = TABLES[code]
    computed = table.compute(period)
    # The table's rho is split evenly between its measures (count, and total where there is one).
    share = rho / len(table.measures)
    parameters, noisy = {}, {}
    for measure in table.measures:
        noise = noise_calibrate(sensitivity=computed.sensitivity[measure], rho=share)
        noisy[measure] = noise.add(computed.values[measure])
        parameters[measure] = {"sensitivity": noise.sensitivity, "scale": noise.scale, "rho": float(share)}
    rows = []
    for position, cell in enumerate(computed.cells):
        row = {"key": cell.key, "label_en": cell.label_en, "label_zh_hans": cell.label_zh_hans}
        for measure in table.measures:
            row[measure] = noisy[measure][position]
        rows.append(row)
    release = Release(
        table=code,
        period=str(period),
        mechanism=MECHANISM,
        rho=rho,
        parameters=parameters,
        rows=rows,
    )
    release.full_clean()
    release.save()
    return release, computed.residents


def _releases_record(*, period: Period, codes: list[str], residents: set[int]) -> int:
    """Record one ledger entry per resident of the month's register, naming the period and every table published.

    Every table is computed over the whole register (a resident without a fill is a zero in the prescriptions
    table), and its privacy loss applies to each of them. Recording only the residents a table counted would
    grow the public log by exactly how many there were: the number the noise is there to hide.
    """
    subjects = sorted(residents)
    count = 0
    for start in range(0, len(subjects), RECORD_BATCH):
        count += record_bulk(
            action=RELEASE_ACTION,
            subjects=[resident_subject(pk) for pk in subjects[start : start + RECORD_BATCH]],
            object=f"{period} {' '.join(codes)}",
        )
    return count
