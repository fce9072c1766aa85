"""The public trend tables: what each counts, its cells, and how far one resident can move it.

Every table is a vector of integers over cells fixed before the data is read
(provinces, services × weeks, programmes, drug classes, agency kinds), so the
set of rows released never depends on who is in the data. Each resident's
contribution is clipped to a stated bound; the bound gives the L2 sensitivity
the noise is calibrated to:

    at most CAP in each cell and at most CELLS cells  =>  L2 sensitivity CAP * sqrt(CELLS)

A resident's rows beyond the bound are read (and the read recorded) but not
counted: which ones is decided by the cell order alone, never by the values.
"""

import datetime
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from cards.models import Resident
from ledger.api import agency_accesses_by_subject, subject_pseudonyms
from services.core.models import Agency
from services.grants.models import Disbursement, Programme
from services.health.models import Prescription, Visit
from services.pharmacy.models import Dispensation, DispensingSession
from services.statistics.periods import Period, week_label

# GB/T 2260 province-level divisions, in code order: (code, English, Chinese).
PROVINCES = (
    ("11", "Beijing", "北京"), ("12", "Tianjin", "天津"), ("13", "Hebei", "河北"), ("14", "Shanxi", "山西"),
    ("15", "Inner Mongolia", "内蒙古"), ("21", "Liaoning", "辽宁"), ("22", "Jilin", "吉林"),
    ("23", "Heilongjiang", "黑龙江"), ("31", "Shanghai", "上海"), ("32", "Jiangsu", "江苏"),
    ("33", "Zhejiang", "浙江"), ("34", "Anhui", "安徽"), ("35", "Fujian", "福建"), ("36", "Jiangxi", "江西"),
    ("37", "Shandong", "山东"), ("41", "Henan", "河南"), ("42", "Hubei", "湖北"), ("43", "Hunan", "湖南"),
    ("44", "Guangdong", "广东"), ("45", "Guangxi", "广西"), ("46", "Hainan", "海南"), ("50", "Chongqing", "重庆"),
    ("51", "Sichuan", "四川"), ("52", "Guizhou", "贵州"), ("53", "Yunnan", "云南"), ("54", "Tibet", "西藏"),
    ("61", "Shaanxi", "陕西"), ("62", "Gansu", "甘肃"), ("63", "Qinghai", "青海"), ("64", "Ningxia", "宁夏"),
    ("65", "Xinjiang", "新疆"), ("71", "Taiwan", "台湾"), ("81", "Hong Kong", "香港"), ("82", "Macao", "澳门"),
)  # fmt: skip

# The services a card is used with, and the rows that count as one use.
CARD_USE_SERVICES = (
    ("health", "Health: a hospital visit", "医疗:就诊"),
    ("pharmacy", "Pharmacy: the card shown at a counter", "药店:在柜台出示社保卡"),
    ("grants", "Grants: a payment onto the card", "补助:发放至社保卡"),
)

CARD_USE_CAP = 3  # uses per resident, service and week
PRESCRIPTION_FILL_CAP = 4  # fills per resident, drug class and month
PARTNER_ACCESS_CAP = 5  # accesses per resident, agency kind and month
GRANT_PROGRAMMES_MAX = 3  # programmes per resident and month

MEASURE_COUNT, MEASURE_TOTAL = "count", "total"


@dataclass(frozen=True)
class Cell:
    key: str
    label_en: str
    label_zh_hans: str


@dataclass
class Computed:
    """The exact values of one table for one period, before noise, and who contributed."""

    cells: list[Cell]
    values: dict[str, list[int]]  # measure -> one value per cell
    sensitivity: dict[str, float]  # measure -> L2 sensitivity
    residents: set[int] = field(default_factory=set)
    clipped: dict[str, int] = field(default_factory=dict)  # measure -> units the bound removed


@dataclass(frozen=True)
class Table:
    code: str
    title: str
    counts: str  # what one unit of the count is
    bound_text: str  # the per-resident bound, in plain words, with %(name)s for BOUND_PARAMETERS
    compute: Callable[[Period], Computed]
    total_unit: str = ""  # the unit of the total, when the table has one

    @property
    def bound(self) -> str:
        """Return the per-resident bound in plain words, in the active language."""
        return str(self.bound_text) % _bound_parameters()

    @property
    def measures(self) -> tuple[str, ...]:
        return (MEASURE_COUNT, MEASURE_TOTAL) if self.total_unit else (MEASURE_COUNT,)


def _bound_parameters() -> dict:
    return {
        "uses": CARD_USE_CAP,
        "fills": PRESCRIPTION_FILL_CAP,
        "accesses": PARTNER_ACCESS_CAP,
        "programmes": GRANT_PROGRAMMES_MAX,
        "amount": settings.ONECARD_STATISTICS_GRANT_AMOUNT_CAP_FEN // 100,
    }


def resident_subject(pk: int) -> str:
    """Return the ledger subject of resident PK without loading it (as Resident.ledger_subject)."""
    return f"resident:{pk}"


def _bounded(
    rows: Iterable[tuple[int, str, int]], *, order: list[str], cap: int, cells_max: int | None = None
) -> tuple[dict[str, int], set[int], int]:
    """Sum (resident, cell, amount) ROWS per cell, each resident capped at CAP per cell and CELLS_MAX cells.

    A resident over CELLS_MAX keeps the cells that come first in ORDER. Return
    the sums, the residents seen and how many units the bound removed.
    """
    position = {key: index for index, key in enumerate(order)}
    per_resident: dict[int, dict[str, int]] = {}
    for resident, cell, amount in rows:
        if cell not in position:
            continue
        cells = per_resident.setdefault(resident, {})
        cells[cell] = cells.get(cell, 0) + amount
    sums = dict.fromkeys(order, 0)
    clipped = 0
    for cells in per_resident.values():
        kept = sorted(cells, key=position.__getitem__)
        if cells_max is not None:
            clipped += sum(cells[key] for key in kept[cells_max:])
            kept = kept[:cells_max]
        for key in kept:
            amount = min(cells[key], cap)
            clipped += cells[key] - amount
            sums[key] += amount
    return sums, set(per_resident), clipped


# -- residents registered by province ---------------------------------------------------------------


def _registered(period: Period):
    return Resident.objects.filter(created_at__lt=period.ends_at)


def register_at_end(period: Period) -> set[int]:
    """Return the ids of the residents in the register at the end of PERIOD: the population every table covers."""
    return set(_registered(period).values_list("id", flat=True).iterator(chunk_size=20_000))


def _residents_by_province(period: Period) -> Computed:
    cells = [Cell(code, english, chinese) for code, english, chinese in PROVINCES]
    counts = dict(_registered(period).values_list("province_code").annotate(n=Count("id")).order_by())
    values = [counts.get(cell.key, 0) for cell in cells]
    residents = register_at_end(period)
    return Computed(cells, {MEASURE_COUNT: values}, {MEASURE_COUNT: 1.0}, residents, {MEASURE_COUNT: 0})


# -- card uses by service and ISO week --------------------------------------------------------------


def _card_use_rows(period: Period):
    weeks = {monday: week_label(monday) for monday in period.weeks()}
    start, end = period.weeks_start_at, period.weeks_end_at

    def week_of(day: datetime.date) -> str | None:
        return weeks.get(day - datetime.timedelta(days=day.weekday()))

    visits = Visit.objects.filter(visited_on__gte=start.date(), visited_on__lt=end.date())
    for resident, day, count in visits.values_list("resident_id", "visited_on").annotate(n=Count("id")).order_by():
        yield resident, f"health|{week_of(day)}", count
    sessions = (
        DispensingSession.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(day=TruncDate("opened_at"))
        .values_list("resident_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for resident, day, count in sessions:
        yield resident, f"pharmacy|{week_of(day)}", count
    payments = (
        Disbursement.objects.filter(status=Disbursement.Status.PAID, confirmed_at__gte=start, confirmed_at__lt=end)
        .annotate(day=TruncDate("confirmed_at"))
        .values_list("application__resident_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for resident, day, count in payments:
        yield resident, f"grants|{week_of(day)}", count


def _card_uses_by_service_and_week(period: Period) -> Computed:
    cells = []
    for service, english, chinese in CARD_USE_SERVICES:
        for monday in period.weeks():
            week = week_label(monday)
            cells.append(Cell(f"{service}|{week}", f"{english}, {week}", f"{chinese},{week}"))
    # Day rows are summed per (resident, week) first; the cap then applies per week.
    sums, residents, clipped = _bounded(_card_use_rows(period), order=[cell.key for cell in cells], cap=CARD_USE_CAP)
    sensitivity = CARD_USE_CAP * math.sqrt(len(cells))
    return Computed(
        cells,
        {MEASURE_COUNT: [sums[cell.key] for cell in cells]},
        {MEASURE_COUNT: sensitivity},
        residents,
        {MEASURE_COUNT: clipped},
    )


# -- grant payments by programme and month ----------------------------------------------------------


def _grant_payments_by_programme(period: Period) -> Computed:
    cap_fen = settings.ONECARD_STATISTICS_GRANT_AMOUNT_CAP_FEN
    programmes = list(Programme.objects.order_by("id").values_list("id", "name_en", "name_zh_hans"))
    cells = [Cell(str(pk), english, chinese) for pk, english, chinese in programmes]
    order = [cell.key for cell in cells]
    paid = (
        Disbursement.objects.filter(
            status=Disbursement.Status.PAID, confirmed_at__gte=period.starts_at, confirmed_at__lt=period.ends_at
        )
        .values_list("application__resident_id", "application__programme_id")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    rows = [(resident, str(programme), count, int(amount * 100)) for resident, programme, count, amount in paid]
    counts, residents, clipped_counts = _bounded(
        ((r, p, n) for r, p, n, _ in rows), order=order, cap=1, cells_max=GRANT_PROGRAMMES_MAX
    )
    totals, _, clipped_fen = _bounded(
        ((r, p, fen) for r, p, _, fen in rows), order=order, cap=cap_fen, cells_max=GRANT_PROGRAMMES_MAX
    )
    cells_touched = min(GRANT_PROGRAMMES_MAX, max(len(cells), 1))
    return Computed(
        cells,
        {MEASURE_COUNT: [counts[key] for key in order], MEASURE_TOTAL: [totals[key] for key in order]},
        {MEASURE_COUNT: math.sqrt(cells_touched), MEASURE_TOTAL: cap_fen * math.sqrt(cells_touched)},
        residents,
        {MEASURE_COUNT: clipped_counts, MEASURE_TOTAL: clipped_fen},
    )


# -- prescriptions dispensed by drug class and month ------------------------------------------------


def _prescriptions_by_class(period: Period) -> Computed:
    with override("en"):
        english = [(code, str(label)) for code, label in Prescription.Controlled.choices]
    with override("zh-hans"):
        chinese = dict((code, str(label)) for code, label in Prescription.Controlled.choices)
    cells = [Cell(code, label, chinese[code]) for code, label in english]
    fills = (
        Dispensation.objects.filter(
            prescription__isnull=False, dispensed_at__gte=period.starts_at, dispensed_at__lt=period.ends_at
        )
        .values_list("resident_id", "controlled_class")
        .annotate(n=Count("id"))
        .order_by()
    )
    sums, residents, clipped = _bounded(fills, order=[cell.key for cell in cells], cap=PRESCRIPTION_FILL_CAP)
    sensitivity = PRESCRIPTION_FILL_CAP * math.sqrt(len(cells))
    return Computed(
        cells,
        {MEASURE_COUNT: [sums[cell.key] for cell in cells]},
        {MEASURE_COUNT: sensitivity},
        residents,
        {MEASURE_COUNT: clipped},
    )


# -- partner accesses by agency kind and month ------------------------------------------------------


def _partner_accesses_by_kind(period: Period) -> Computed:
    with override("en"):
        english = [(code, str(label)) for code, label in Agency.Kind.choices]
    with override("zh-hans"):
        chinese = dict((code, str(label)) for code, label in Agency.Kind.choices)
    cells = [Cell(code, label, chinese[code]) for code, label in english]
    counts = agency_accesses_by_subject(since=period.starts_at, until=period.ends_at, exclude_actions=(RELEASE_ACTION,))
    kinds = dict(Agency.objects.values_list("code", "kind"))
    rows = []
    if counts:
        # Pseudonyms are keyed HMACs: map them back by computing every resident's, under every key version.
        wanted = {subject for subject, _ in counts}
        residents_of = {}
        for pk in Resident.objects.values_list("id", flat=True).iterator(chunk_size=20_000):
            for pseudonym in subject_pseudonyms(resident_subject(pk)):
                if pseudonym in wanted:
                    residents_of[pseudonym] = pk
        rows = [
            (residents_of[subject], kinds.get(agency, ""), count)
            for (subject, agency), count in counts.items()
            if subject in residents_of
        ]
    sums, residents, clipped = _bounded(rows, order=[cell.key for cell in cells], cap=PARTNER_ACCESS_CAP)
    sensitivity = PARTNER_ACCESS_CAP * math.sqrt(len(cells))
    return Computed(
        cells,
        {MEASURE_COUNT: [sums[cell.key] for cell in cells]},
        {MEASURE_COUNT: sensitivity},
        residents,
        {MEASURE_COUNT: clipped},
    )


RELEASE_ACTION = "statistics.release"

TABLES: dict[str, Table] = {
    table.code: table
    for table in (
        Table(
            "residents",
            _("Residents registered, by province"),
            _("a resident in the register at the end of the month, by the province of their ID number"),
            _("Each resident counts once, in one province."),
            _residents_by_province,
        ),
        Table(
            "card-uses",
            _("Card uses, by service and ISO week"),
            _("a hospital visit, a card shown at a pharmacy counter, or a grant paid onto the card"),
            _("Each resident counts at most %(uses)s uses per service and week."),
            _card_uses_by_service_and_week,
        ),
        Table(
            "grant-payments",
            _("Grant payments, by programme and month"),
            _("a resident paid by a programme in the month; the total is what they were paid"),
            _(
                "Each resident counts at most once per programme, in at most %(programmes)s programmes a month,"
                " with at most %(amount)s yuan each."
            ),
            _grant_payments_by_programme,
            total_unit="CNY",
        ),
        Table(
            "prescriptions",
            _("Prescriptions dispensed, by drug class and month"),
            _("a fill of a prescription at a pharmacy, by the drug's class under the narcotic and psychotropic rules"),
            _("Each resident counts at most %(fills)s fills per drug class and month."),
            _prescriptions_by_class,
        ),
        Table(
            "partner-accesses",
            _("Partner accesses, by agency kind and month"),
            _("an access to a resident's data by a partner agency, as the ledger records it"),
            _("Each resident counts at most %(accesses)s accesses per kind of agency and month."),
            _partner_accesses_by_kind,
        ),
    )
}
