"""Periods of official statistics: calendar months, and the ISO weeks assigned to each month.

An ISO week belongs to the month holding its Thursday, as it belongs to the
ISO year holding its Thursday: every week is in exactly one period, whole.
Times are local (settings.TIME_ZONE): a month starts at local midnight.
"""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone

from services.statistics.errors import PeriodInvalid

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> datetime.date:
        return datetime.date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def starts_at(self) -> datetime.datetime:
        return _local_midnight(self.first_day)

    @property
    def ends_at(self) -> datetime.datetime:
        return _local_midnight(self.next_first_day)

    def weeks(self) -> list[datetime.date]:
        """Return the Mondays of the ISO weeks whose Thursday falls in this month."""
        first_thursday = self.first_day + datetime.timedelta(days=(3 - self.first_day.weekday()) % 7)
        mondays, thursday = [], first_thursday
        while thursday < self.next_first_day:
            mondays.append(thursday - datetime.timedelta(days=3))
            thursday += datetime.timedelta(days=7)
        return mondays

    @property
    def weeks_start_at(self) -> datetime.datetime:
        return _local_midnight(self.weeks()[0])

    @property
    def weeks_end_at(self) -> datetime.datetime:
        return _local_midnight(self.weeks()[-1] + datetime.timedelta(days=7))

    @property
    def closes_at(self) -> datetime.datetime:
        """Return when every day and week of the period has ended."""
        return max(self.ends_at, self.weeks_end_at)

    def previous(self) -> "Period":
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def week_label(monday: datetime.date) -> str:
    """Return the ISO week of MONDAY as YYYY-Www."""
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_parse(text: str) -> Period:
    """Return the period TEXT names (YYYY-MM), or raise PeriodInvalid."""
    match = _PERIOD.fullmatch(text or "")
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1970:
        raise PeriodInvalid(f"period must be a month written YYYY-MM, e.g. 2026-11, not {text!r}")
    return Period(int(match[1]), int(match[2]))


def period_last_closed(now: datetime.datetime | None = None) -> Period:
    """Return the latest period that has closed at NOW."""
    today = timezone.localdate(now or timezone.now())
    period = Period(today.year, today.month).previous()
    while period.closes_at > (now or timezone.now()):
        period = period.previous()
    return period
