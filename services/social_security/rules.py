"""The unemployment benefit rule, kept apart from storage so it can be read and tested on its own.

Entitlement (docs/services.md):
- count the calendar months, among the 60 before the month unemployment began,
  in which any employer contributed to unemployment insurance for the resident;
- fewer than 12 months: not eligible; 12–23: 3 months paid; 24–59: 6 months; 60: 12 months;
- the monthly amount is 60 % of the average monthly unemployment-insurance base over
  the last 12 contributed months of that window (bases from several employers in
  one month are added), capped at 3,000.00 and rounded to the cent.
"""

from decimal import ROUND_HALF_UP, Decimal

WINDOW_MONTHS = 60
AVERAGE_OVER_MONTHS = 12
REPLACEMENT_RATE = Decimal("0.60")
MONTHLY_CAP = Decimal("3000.00")

# (fewest contributed months, months paid), highest first.
_TIERS = ((60, 12), (24, 6), (12, 3))


def entitled_months(contribution_months: int) -> int:
    """Return how many months of benefit CONTRIBUTION_MONTHS of unemployment insurance buy; 0 means ineligible."""
    for least, months in _TIERS:
        if contribution_months >= least:
            return months
    return 0


def monthly_benefit(monthly_bases: list[Decimal]) -> Decimal:
    """Return the monthly benefit for the contribution bases of the most recent contributed months."""
    recent = monthly_bases[:AVERAGE_OVER_MONTHS]
    if not recent:
        return Decimal("0.00")
    average = sum(recent, Decimal("0")) / len(recent)
    return min(average * REPLACEMENT_RATE, MONTHLY_CAP).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
