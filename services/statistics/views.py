"""The public statistics page and releases.json: noisy aggregates only, no login."""

import math

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from services.statistics import charts, selectors
from services.statistics.mechanisms import DELTA, epsilon_at
from services.statistics.periods import PeriodInvalid, period_parse
from services.statistics.tables import TABLES

TREND_PERIODS = 12


@require_GET
def releases_json(request):
    """Return every release with its privacy parameters, and each period's budget."""
    releases = [selectors.release_public(release) for release in selectors.release_list()]
    return JsonResponse(
        {"releases": releases, "budget": selectors.budgets_public()}, json_dumps_params={"ensure_ascii": False}
    )


def _chart(title: str, rows: list[dict], *, measure: str = "value") -> str:
    shown = []
    for row in rows:
        value = float(row[measure])
        shown.append((row["label"], value, row[measure] if measure == "total" else f"{int(value):,}"))
    return mark_safe(charts.bar_svg(title=title, rows=shown))


@require_GET
def statistics_page(request):
    """Show the released tables of one period as charts, with their privacy parameters in plain words."""
    releases = selectors.release_list()
    periods = sorted({release.period for release in releases}, reverse=True)
    chosen, error = (periods[0] if periods else None), ""
    if request.GET.get("period"):
        try:
            chosen = str(period_parse(request.GET["period"]))
        except PeriodInvalid:
            error = _("Choose a month from the list.")
    budgets = selectors.budgets_public()
    sections = []
    for code, table in TABLES.items():
        release = next((r for r in releases if r.table == code and r.period == chosen), None)
        trend = [r for r in releases if r.table == code][:TREND_PERIODS]
        section = {"code": code, "title": table.title, "counts": table.counts, "bound": table.bound, "release": None}
        if release is not None:
            public = selectors.release_public(release)
            section["release"] = public
            section["chart"] = _chart(str(table.title), public["rows"])
            if table.total_unit:
                section["total_chart"] = _chart(str(table.title), public["rows"], measure="total")
            section["scales"] = [
                {"measure": measure, "scale": round(parameters["scale"], 1), "spread": round(2 * parameters["scale"])}
                for measure, parameters in release.parameters.items()
            ]
        if len(trend) > 1:
            totals = [(r.period, sum(row["count"] for row in r.rows)) for r in reversed(trend)]
            section["trend"] = mark_safe(
                charts.bar_svg(
                    title=_("%(table)s: all rows added up, by month") % {"table": table.title},
                    rows=[(period, total, f"{total:,}") for period, total in totals],
                )
            )
        sections.append(section)
    budget = budgets.get(chosen) if chosen else None
    context = {
        "periods": periods,
        "chosen": chosen,
        "error": error,
        "sections": sections,
        "budget": budget,
        "epsilon": round(epsilon_at(budget["spent"]), 2) if budget else None,
        "limit_epsilon": round(epsilon_at(budget["limit"]), 2) if budget else None,
        "factor": f"{math.exp(epsilon_at(budget['spent'])):,.0f}" if budget and budget["spent"] else None,
        "delta_in": f"{round(1 / DELTA):,}",
    }
    return render(request, "statistics/index.html", context)
