"""Calendar-month arithmetic: a month is the date of its first day."""

import calendar
import datetime


def month_of(day: datetime.date) -> datetime.date:
    """Return the first day of DAY's month."""
    return day.replace(day=1)


def month_add(month: datetime.date, count: int) -> datetime.date:
    """Return the first day of the month COUNT months after MONTH (before it when negative)."""
    index = month.year * 12 + (month.month - 1) + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_parse(value) -> datetime.date:
    """Return the month written as 'YYYY-MM', or raise ValueError."""
    if not isinstance(value, str) or len(value) != 7 or value[4] != "-":
        raise ValueError("must be a month written YYYY-MM")
    try:
        return datetime.date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        raise ValueError("must be a month written YYYY-MM") from None


def month_label(month: datetime.date) -> str:
    """Return MONTH as 'YYYY-MM'."""
    return f"{month.year:04d}-{month.month:02d}"


def date_add_months(day: datetime.date, count: int) -> datetime.date:
    """Return the same day COUNT months later, or the month's last day when it is shorter."""
    month = month_add(month_of(day), count)
    return month.replace(day=min(day.day, calendar.monthrange(month.year, month.month)[1]))
