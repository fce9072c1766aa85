"""Read published releases, the budgets they spent, and the releases a resident's data went into.

Releases are public: noisy aggregates only, never a row about one resident.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import get_language

from ledger.api import entry_list_for_subject, pending_list_for_subject
from services.statistics.mechanisms import DELTA, MEASURE, MECHANISM, epsilon_at
from services.statistics.models import PeriodBudget, Release
from services.statistics.tables import MEASURE_TOTAL, RELEASE_ACTION, TABLES

_SCAN_CHUNK = 500


def rho_shown(rho: Decimal) -> str:
    """Return RHO without trailing zeros: 0.2, not 0.200000000."""
    return format(rho.normalize(), "f") if rho else "0"


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _rows(release: Release) -> list[dict]:
    label = "label_zh_hans" if _chinese() else "label_en"
    rows = []
    for row in release.rows:
        shown = {"key": row["key"], "label": row[label], "value": row["count"]}
        if MEASURE_TOTAL in row:
            # Totals are released in fen; shown in yuan with two decimals.
            shown["total"] = str(Decimal(row[MEASURE_TOTAL]) / 100)
        rows.append(shown)
    return rows


def _privacy(release: Release) -> dict:
    return {
        "mechanism": MECHANISM,
        "measure": MEASURE,
        "rho": float(release.rho),
        "epsilon": round(epsilon_at(release.rho), 4),
        "delta": DELTA,
        "measures": release.parameters,
    }


def release_list(*, period: str | None = None) -> list[Release]:
    """Return every release (of PERIOD, if given), newest period first."""
    releases = Release.objects.order_by("-period", "table")
    if period:
        releases = releases.filter(period=period)
    return list(releases)


def release_public(release: Release) -> dict:
    """Return RELEASE as releases.json shows it: table, period, privacy parameters, labelled noisy rows."""
    return {
        "table": release.table,
        "title": str(TABLES[release.table].title) if release.table in TABLES else release.table,
        "period": release.period,
        "published_at": release.published_at.isoformat(),
        "privacy": _privacy(release),
        "rows": _rows(release),
    }


def budgets_public() -> dict[str, dict]:
    """Return each period's budget: rho spent and its limit."""
    return {
        budget.period: {"spent": float(budget.spent_rho), "limit": float(budget.limit_rho)}
        for budget in PeriodBudget.objects.order_by("-period")
    }


@dataclass(frozen=True)
class ResidentRelease:
    """A release the resident's data went into, as their access history shows it."""

    period: str
    table: str
    title: str
    rho: Decimal
    published_at: datetime.datetime

    @property
    def rho_shown(self) -> str:
        return rho_shown(self.rho)


@dataclass(frozen=True)
class ResidentPrivacyLoss:
    releases: list[ResidentRelease]
    year: int
    rho: Decimal
    epsilon: float
    delta: float

    @property
    def rho_shown(self) -> str:
        return rho_shown(self.rho)

    @property
    def likelihood_factor(self) -> float:
        """Return e^epsilon: how many times likelier any outcome can become because the resident's data was used."""
        return math.exp(self.epsilon)


def _release_references(resident, since: datetime.datetime) -> list[tuple[str, str]]:
    """Return the (period, table) of each statistics entry about RESIDENT recorded since SINCE, newest first."""
    objects = []
    for row in pending_list_for_subject(subject=resident).filter(action=RELEASE_ACTION, time__gte=since):
        objects.append(row.object)
    before = None
    stamp = since.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    while True:
        chunk = entry_list_for_subject(subject=resident, limit=_SCAN_CHUNK, before=before)
        for item in chunk:
            entry = item["entry"]
            if "sealed" in entry:
                continue  # a sealed access (ledger.sealing): no time, never a statistics release
            if entry["time"] < stamp:
                chunk = []
                break
            if entry["action"] == RELEASE_ACTION:
                objects.append(entry.get("object", ""))
        if len(chunk) < _SCAN_CHUNK:
            break
        before = chunk[-1]["index"]
    references = []
    for text in objects:
        period, _, codes = text.partition(" ")
        references.extend((period, code) for code in codes.split())
    return references


def privacy_loss_for_resident(*, resident, year: int | None = None) -> ResidentPrivacyLoss:
    """Return the releases RESIDENT's data went into this YEAR (by the ledger) and their combined privacy loss.

    Not recorded on its own: the access history page that shows it records the read.
    zCDP composes by adding: the year's loss is the sum of those releases' rho.
    """
    year = year or timezone.localdate().year
    since = timezone.make_aware(datetime.datetime(year, 1, 1))
    references = set(_release_references(resident, since))
    releases = []
    if references:
        periods = {period for period, _ in references}
        for release in Release.objects.filter(period__in=periods).order_by("-period", "table"):
            if (release.period, release.table) in references:
                table = TABLES.get(release.table)
                title = str(table.title) if table else release.table
                releases.append(
                    ResidentRelease(release.period, release.table, title, release.rho, release.published_at)
                )
    rho = sum((release.rho for release in releases), Decimal(0))
    return ResidentPrivacyLoss(releases, year, rho, epsilon_at(rho), DELTA)
