"""Validate employer batches item by item, collecting every problem as (index, field, message)."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone

from cards.crypto import national_id_lookup_hash
from cards.models import Resident
from cards.national_id import parse_national_id
from services.social_security.models import Insurance
from services.social_security.months import month_of, month_parse

MAX_ITEMS = 20_000
_LOOKUP_CHUNK = 900
_AMOUNT_LIMIT = Decimal("10000000")
INSURANCES = tuple(Insurance.values)

Problems = list[tuple[int | None, str, str]]


@dataclass
class ContributionItem:
    index: int
    lookup: str
    month: datetime.date
    base: Decimal
    shares: dict[str, tuple[Decimal, Decimal]]  # insurance: (employer, employee)
    resident: Resident | None = None


@dataclass
class EmploymentItem:
    index: int
    lookup: str
    started_on: datetime.date
    ended_on: datetime.date | None
    resident: Resident | None = None


def items_check(items, problems: Problems) -> list | None:
    """Return ITEMS when it is a non-empty list within the size limit, else note why and return None."""
    if not isinstance(items, list):
        problems.append((None, "items", "the body must be a JSON list of items"))
        return None
    if not items:
        problems.append((None, "items", "the batch is empty"))
        return None
    if len(items) > MAX_ITEMS:
        problems.append((None, "items", f"at most {MAX_ITEMS} items per batch, not {len(items)}"))
        return None
    return items


def _national_id(item: dict, index: int, problems: Problems) -> str | None:
    value = item.get("national_id")
    if not isinstance(value, str) or not value.strip():
        problems.append((index, "national_id", "this field is required"))
        return None
    try:
        return national_id_lookup_hash(parse_national_id(value).number)
    except ValidationError as error:
        problems.append((index, "national_id", str(error.messages[0])))
        return None


def _amount(value, index: int, field: str, problems: Problems, *, positive: bool = False) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append((index, field, 'must be an amount such as "1234.50"'))
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        problems.append((index, field, 'must be an amount such as "1234.50"'))
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        problems.append((index, field, "must have at most two decimal places"))
        return None
    if amount < 0 or (positive and amount == 0):
        problems.append((index, field, "must be greater than zero" if positive else "must not be negative"))
        return None
    if amount >= _AMOUNT_LIMIT:
        problems.append((index, field, "is implausibly large"))
        return None
    return amount.quantize(Decimal("0.01"))


def _date(value, index: int, field: str, problems: Problems) -> datetime.date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append((index, field, "must be a date written YYYY-MM-DD"))
    return None


def contribution_items_parse(items: list, problems: Problems) -> list[ContributionItem]:
    """Return the well-formed contribution items; note every problem in PROBLEMS."""
    this_month = month_of(timezone.localdate())
    parsed: list[ContributionItem] = []
    first_index: dict[tuple[str, datetime.date], int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append((index, "item", "must be an object"))
            continue
        before = len(problems)
        unknown = set(item) - {"national_id", "month", "base", "contributions"}
        for field in sorted(unknown):
            problems.append((index, field, "is not a field of a contribution item"))
        lookup = _national_id(item, index, problems)
        month = None
        try:
            month = month_parse(item.get("month"))
            if month > this_month:
                problems.append((index, "month", "must not be in the future"))
                month = None
        except ValueError as error:
            problems.append((index, "month", str(error)))
        base = _amount(item.get("base"), index, "base", problems, positive=True)
        shares: dict[str, tuple[Decimal, Decimal]] = {}
        contributions = item.get("contributions")
        if not isinstance(contributions, dict) or not contributions:
            problems.append((index, "contributions", f"must be an object with one or more of {', '.join(INSURANCES)}"))
        else:
            for insurance, share in contributions.items():
                field = f"contributions.{insurance}"
                if insurance not in INSURANCES:
                    problems.append((index, field, f"unknown insurance; use one of {', '.join(INSURANCES)}"))
                    continue
                if not isinstance(share, dict) or set(share) != {"employer", "employee"}:
                    problems.append((index, field, "must be an object with 'employer' and 'employee' amounts"))
                    continue
                employer = _amount(share["employer"], index, f"{field}.employer", problems)
                employee = _amount(share["employee"], index, f"{field}.employee", problems)
                if employer is not None and employee is not None:
                    shares[insurance] = (employer, employee)
        if lookup is not None and month is not None:
            key = (lookup, month)
            if key in first_index:
                problems.append((index, "national_id", f"duplicate of items[{first_index[key]}] for the same month"))
                continue
            first_index[key] = index
        if len(problems) == before:
            parsed.append(ContributionItem(index=index, lookup=lookup, month=month, base=base, shares=shares))
    return parsed


def employment_items_parse(items: list, problems: Problems) -> list[EmploymentItem]:
    """Return the well-formed employment items; note every problem in PROBLEMS."""
    today = timezone.localdate()
    parsed: list[EmploymentItem] = []
    first_index: dict[tuple[str, datetime.date], int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append((index, "item", "must be an object"))
            continue
        before = len(problems)
        for field in sorted(set(item) - {"national_id", "started_on", "ended_on"}):
            problems.append((index, field, "is not a field of an employment item"))
        lookup = _national_id(item, index, problems)
        started_on = _date(item.get("started_on"), index, "started_on", problems)
        ended_on = None
        if item.get("ended_on") is not None:
            ended_on = _date(item["ended_on"], index, "ended_on", problems)
        if started_on and started_on > today:
            problems.append((index, "started_on", "must not be in the future"))
        if started_on and ended_on and ended_on < started_on:
            problems.append((index, "ended_on", "must not be before started_on"))
        if lookup is not None and started_on is not None:
            key = (lookup, started_on)
            if key in first_index:
                problems.append((index, "national_id", f"duplicate of items[{first_index[key]}]"))
                continue
            first_index[key] = index
        if len(problems) == before:
            parsed.append(EmploymentItem(index=index, lookup=lookup, started_on=started_on, ended_on=ended_on))
    return parsed


def residents_attach(items: Iterable, problems: Problems) -> None:
    """Set each item's resident from its national ID lookup hash; note unregistered ones."""
    items = list(items)
    lookups = list({item.lookup for item in items})
    found: dict[str, Resident] = {}
    for start in range(0, len(lookups), _LOOKUP_CHUNK):
        for resident in Resident.objects.filter(national_id_hash__in=lookups[start : start + _LOOKUP_CHUNK]).only(
            "id", "national_id_hash"
        ):
            found[resident.national_id_hash] = resident
    for item in items:
        item.resident = found.get(item.lookup)
        if item.resident is None:
            problems.append((item.index, "national_id", "no registered resident has this national ID"))
