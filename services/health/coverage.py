"""The medical insurance coverage rule (docs/services.md).

A resident is covered on day D when a medical-insurance contribution was made
for D's month or one of the 3 months before it. A contribution for January
therefore covers 1 January to 30 April; on 1 May the resident is no longer
covered unless a later month was contributed. Covered residents are reimbursed
at REIMBURSEMENT_RATE of a visit's cost; uncovered residents at 0.
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cards.models import Resident
from services.social_security.models import Insurance
from services.social_security.months import month_add, month_of
from services.social_security.selectors import contribution_latest_month

MONTHS_AFTER_CONTRIBUTION = 3
REIMBURSEMENT_RATE = Decimal("0.700")
NO_REIMBURSEMENT = Decimal("0.000")


@dataclass(frozen=True)
class Coverage:
    covered: bool
    reimbursement_rate: Decimal
    last_contribution_month: datetime.date | None
    covered_until: datetime.date | None  # the last day covered by the contributions made so far


def coverage_on(*, resident: Resident, on: datetime.date) -> Coverage:
    """Return RESIDENT's medical insurance coverage on ON. The caller records the access."""
    latest = contribution_latest_month(resident=resident, insurance=Insurance.MEDICAL, until=on)
    if latest is None:
        return Coverage(False, NO_REIMBURSEMENT, None, None)
    last_month = month_add(latest, MONTHS_AFTER_CONTRIBUTION)
    covered_until = last_month.replace(day=calendar.monthrange(last_month.year, last_month.month)[1])
    covered = month_of(on) <= last_month
    return Coverage(covered, REIMBURSEMENT_RATE if covered else NO_REIMBURSEMENT, latest, covered_until)


def insured_share(*, cost: Decimal, rate: Decimal) -> Decimal:
    """Return the part of COST medical insurance pays at RATE, rounded to the cent."""
    return (cost * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
