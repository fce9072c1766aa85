"""The dashboard's charts: one declarative table, each entry naming where its aggregate comes from.

A chart is a function returning ``[(label, count), ...]`` from a selector's
aggregate (the grants service's applications by state per week, the
pharmacy's dispensations per day). Every count passes through portal.charts,
which suppresses small cells.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cards.selectors import card_counts_by_status
from ledger.api import access_counts, log_health
from portal import charts

ACCESS_WINDOW_DAYS = 30
APPLICATION_WEEKS = 8
DISPENSATION_DAYS = 14


def _cards_by_status() -> list[tuple[str, int]]:
    from cards.models import Card

    labels = dict(Card.Status.choices)
    return [(str(labels[status]), count) for status, count in card_counts_by_status().items()]


def _since() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=ACCESS_WINDOW_DAYS)


def _accesses_by_agency() -> list[tuple[str, int]]:
    return sorted(access_counts(by="agency", since=_since()).items())


def _accesses_by_purpose() -> list[tuple[str, int]]:
    return sorted(access_counts(by="purpose", since=_since()).items())


def _applications_per_week() -> list[tuple[str, int]]:
    from services.grants.models import Application
    from services.grants.selectors import application_counts_by_week_and_state

    labels = dict(Application.Status.choices)
    return [
        (f"{monday:%Y-%m-%d} {labels[status]}", count)
        for monday, status, count in application_counts_by_week_and_state(weeks=APPLICATION_WEEKS)
    ]


def _dispensations_per_day() -> list[tuple[str, int]]:
    from services.pharmacy.selectors import dispensation_counts_per_day

    return [(f"{day:%Y-%m-%d}", count) for day, count in dispensation_counts_per_day(days=DISPENSATION_DAYS)]


@dataclass(frozen=True)
class ChartSource:
    code: str
    title: str | Promise
    rows: Callable[[], list[tuple[str, int]]]
    note: str | Promise = ""


CHARTS: list[ChartSource] = [
    ChartSource("cards-by-status", _("Cards by status"), _cards_by_status),
    ChartSource(
        "accesses-by-agency",
        _("Accesses by partner agency"),
        _accesses_by_agency,
        note=format_lazy(_("Last {days} days, from the ledger."), days=ACCESS_WINDOW_DAYS),
    ),
    ChartSource(
        "accesses-by-purpose",
        _("Accesses by purpose"),
        _accesses_by_purpose,
        note=format_lazy(_("Last {days} days, from the ledger."), days=ACCESS_WINDOW_DAYS),
    ),
    ChartSource(
        "applications-per-week",
        _("Grant applications by state per week"),
        _applications_per_week,
        note=format_lazy(
            _("Last {weeks} weeks by the week they were started (Monday shown)."), weeks=APPLICATION_WEEKS
        ),
    ),
    ChartSource(
        "dispensations-per-day",
        _("Dispensations per day"),
        _dispensations_per_day,
        note=format_lazy(_("Last {days} days."), days=DISPENSATION_DAYS),
    ),
]


def chart_data(code: str) -> charts.Chart | None:
    """Return the chart CODE with its rows, or None when there is no such chart."""
    for source in CHARTS:
        if source.code == code:
            return charts.Chart(code=source.code, title=source.title, rows=source.rows(), note=source.note)
    return None


def ledger_health() -> list[tuple[str, str]]:
    """Return the sequencer lag and the last verification as lines for the dashboard."""
    health = log_health()
    run = health["verification"]
    if run is None:
        verification = gettext("none yet")
    elif run["ok"]:
        verification = gettext("%(time)s UTC: intact") % {"time": f"{run['finished_at']:%Y-%m-%d %H:%M}"}
    else:
        verification = gettext("%(time)s UTC: FAILED at entry %(index)s") % {
            "time": f"{run['finished_at']:%Y-%m-%d %H:%M}",
            "index": run["first_bad_index"],
        }
    lag = gettext("%(seconds)s s (%(pending)s entries pending)") % {
        "seconds": f"{health['lag_seconds']:.1f}",
        "pending": charts.cell(health["pending"]),
    }
    return [
        (gettext("Sequencer lag"), lag),
        (gettext("Latest checkpoint"), gettext("tree size %(size)s") % {"size": health["tree_size"]}),
        (gettext("Last verification"), verification),
    ]


def charts_render() -> list[dict]:
    """Return every chart ready for the dashboard template: code, title, note and SVG."""
    rendered = []
    for source in CHARTS:
        chart = chart_data(source.code)
        rendered.append(
            {
                "code": chart.code,
                "title": chart.title,
                "note": chart.note,
                "svg": mark_safe(charts.bar_svg(chart)),
            }
        )
    return rendered
