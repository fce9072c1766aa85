"""The registry of data-check predicates: each answers one yes/no question about a resident.

Every predicate is declared here, once: its name, the scope an agency needs to
ask it, how its argument is read, and the selector that answers it. The
selectors answer without recording; ``services.checks.selectors.checks_evaluate``
records one ledger entry per predicate asked.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from cards.models import Resident
from cards.national_id import PROVINCE_CODES
from cards.selectors import card_is_active_for_resident
from services.checks.declaration import ChecksScope
from services.checks.errors import PredicateUnknown
from services.health.coverage import coverage_on
from services.social_security.selectors import contribution_month_count, unemployment_benefit_is_paid

_MAX_NUMBER = 1200


@dataclass(frozen=True)
class Predicate:
    """One question a partner may ask: ``name`` or ``name:argument``."""

    name: str
    scope: str
    description: str
    answer: Callable[[Resident, datetime.date, object], bool]
    argument: Callable[[str], object] | None = None  # reads the text after ':'; None: no argument
    argument_help: str = ""


@dataclass(frozen=True)
class PredicateCall:
    """A predicate with its argument read, as a partner wrote it."""

    text: str
    predicate: Predicate
    argument: object = None

    def answer(self, *, resident: Resident, on: datetime.date) -> bool:
        return self.predicate.answer(resident, on, self.argument)


def _count(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,4}", text) or int(text) > _MAX_NUMBER:
        raise ValueError(f"must be a whole number from 0 to {_MAX_NUMBER}")
    return int(text)


def _province(text: str) -> str:
    if not re.fullmatch(r"[0-9]{2}", text) or text not in PROVINCE_CODES:
        raise ValueError("must be a two-digit GB/T 2260 province code such as 11 or 31")
    return text


def _card_active(resident: Resident, on: datetime.date, _argument) -> bool:
    return card_is_active_for_resident(resident=resident)


def _insured_medical(resident: Resident, on: datetime.date, _argument) -> bool:
    return coverage_on(resident=resident, on=on).covered


def _contribution_months_gte(resident: Resident, on: datetime.date, months: int) -> bool:
    return contribution_month_count(resident=resident) >= months


def _age_gte(resident: Resident, on: datetime.date, years: int) -> bool:
    birth = resident.birth_date
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return age >= years


def _resident_of_province(resident: Resident, on: datetime.date, code: str) -> bool:
    return resident.province_code == code


def _receiving_unemployment_benefit(resident: Resident, on: datetime.date, _argument) -> bool:
    return unemployment_benefit_is_paid(resident=resident, on=on)


PREDICATES: dict[str, Predicate] = {
    predicate.name: predicate
    for predicate in (
        Predicate(
            "card_active",
            ChecksScope.CARD_ACTIVE,
            "The resident holds a one card that is in force (not suspended, revoked or expired).",
            _card_active,
        ),
        Predicate(
            "insured_medical",
            ChecksScope.INSURED_MEDICAL,
            "The resident is covered by medical insurance today (see the coverage rule).",
            _insured_medical,
        ),
        Predicate(
            "contribution_months_gte",
            ChecksScope.CONTRIBUTION_MONTHS,
            "Contributions were made for at least N calendar months, to any insurance, by any employer.",
            _contribution_months_gte,
            _count,
            "N: months, 0–1200",
        ),
        Predicate(
            "age_gte",
            ChecksScope.AGE,
            "The resident is at least N years old today (from the birth date in the national ID).",
            _age_gte,
            _count,
            "N: years, 0–1200",
        ),
        Predicate(
            "resident_of_province",
            ChecksScope.RESIDENCE,
            "The resident's national ID was issued in province NN (GB/T 2260 code).",
            _resident_of_province,
            _province,
            "NN: two-digit province code",
        ),
        Predicate(
            "receiving_unemployment_benefit",
            ChecksScope.UNEMPLOYMENT_BENEFIT,
            "An approved unemployment benefit is being paid to the resident today.",
            _receiving_unemployment_benefit,
        ),
    )
}


def predicate_parse(text) -> PredicateCall:
    """Return the predicate TEXT names with its argument read, or raise PredicateUnknown."""
    if not isinstance(text, str):
        raise PredicateUnknown("a predicate is a string such as 'age_gte:18'")
    name, colon, raw = text.partition(":")
    predicate = PREDICATES.get(name)
    if predicate is None:
        raise PredicateUnknown(f"unknown predicate {text!r}; known: {', '.join(sorted(PREDICATES))}")
    if predicate.argument is None:
        if colon:
            raise PredicateUnknown(f"{name} takes no argument")
        return PredicateCall(text=text, predicate=predicate)
    if not colon:
        raise PredicateUnknown(f"{name} needs an argument: {name}:{predicate.argument_help.split(':')[0]}")
    try:
        return PredicateCall(text=text, predicate=predicate, argument=predicate.argument(raw))
    except ValueError as error:
        raise PredicateUnknown(f"{text!r}: {predicate.argument_help.split(':')[0]} {error}") from None
