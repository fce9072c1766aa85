"""Server-rendered SVG bar charts and CSV of aggregate counts, with small-cell suppression.

Any count below SMALL_CELL_THRESHOLD (zero included) is shown as "<5", in the
chart and in its CSV. A suppressed bar is drawn at the threshold's length
with a hatched fill, so its pixels say no more than its label; charts carry
no totals, so a suppressed cell cannot be recovered by subtraction.
"""

import io
from dataclasses import dataclass, field

from django.utils.html import escape

from cards.spreadsheet import csv_writer

SMALL_CELL_THRESHOLD = 5
SUPPRESSED = f"<{SMALL_CELL_THRESHOLD}"


@dataclass
class Chart:
    code: str
    title: str
    # (label, count) pairs.
    rows: list[tuple[str, int]] = field(default_factory=list)
    note: str = ""


def cell(count: int) -> str:
    """Return COUNT as it may be shown: the number, or "<5" below the threshold."""
    return SUPPRESSED if count < SMALL_CELL_THRESHOLD else str(count)


def _shown_length(count: int) -> int:
    return max(count, SMALL_CELL_THRESHOLD)


def bar_svg(chart: Chart, *, width: int = 560, bar_height: int = 22) -> str:
    """Return CHART as a horizontal bar chart in SVG; suppressed bars are hatched and of one length."""
    rows = chart.rows
    label_width, value_width, gap = 170, 50, 6
    plot_width = width - label_width - value_width
    longest = max((_shown_length(count) for _, count in rows), default=SMALL_CELL_THRESHOLD)
    height = max(1, len(rows)) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="onecard-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(chart.title)}">',
        '<defs><pattern id="suppressed" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="6" fill="#9aa5b1"/></pattern></defs>',
    ]
    for position, (label, count) in enumerate(rows):
        y = gap + position * (bar_height + gap)
        length = round(plot_width * _shown_length(count) / longest)
        suppressed = count < SMALL_CELL_THRESHOLD
        fill = "url(#suppressed)" if suppressed else "#417690"
        parts.append(
            f'<text class="label" x="{label_width - 6}" y="{y + bar_height * 0.7:.0f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="{"bar suppressed" if suppressed else "bar"}" x="{label_width}" y="{y}" '
            f'width="{length}" height="{bar_height}" fill="{fill}"/>'
            f'<text class="value" x="{label_width + length + 4}" y="{y + bar_height * 0.7:.0f}">'
            f"{escape(cell(count))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def csv_text(chart: Chart) -> str:
    """Return CHART's rows as CSV (label,count), with the same suppression as the chart."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["label", "count"])
    for label, count in chart.rows:
        writer.writerow([label, cell(count)])
    return buffer.getvalue()


def _shortened(label: str, limit: int) -> str:
    width = sum(2 if ord(character) > 0x2E7F else 1 for character in label)
    if width <= limit:
        return label
    out, used = "", 0
    for character in label:
        used += 2 if ord(character) > 0x2E7F else 1
        if used > limit - 1:
            break
        out += character
    return out + "…"


def summary_svg(*, title: str, rows: list[tuple[str, int]], width: int = 320, bar_height: int = 14) -> str:
    """Return one resident's own counts (label, count) as a bar chart that scales to the width of a phone.

    Unlike bar_svg, nothing is suppressed: the counts are the reader's own accesses, not aggregates over
    residents. Each label sits above its bar, so long names (and Chinese ones) keep the whole width;
    a label longer than the chart is shortened with "…" (the page lists each name in full).
    """
    label_height, gap, value_width = 16, 10, 36
    row_height = label_height + bar_height + gap
    height = max(1, len(rows)) * row_height + 4
    plot_width = width - value_width
    longest = max((count for _, count in rows), default=1) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="onecard-chart summary-chart" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(title)}">'
    ]
    for position, (label, count) in enumerate(rows):
        y = 2 + position * row_height
        length = max(2, round(plot_width * count / longest))
        parts.append(
            f'<text class="label" x="0" y="{y + 12}">{escape(_shortened(label, 44))}</text>'
            f'<rect class="bar" x="0" y="{y + label_height}" width="{length}" height="{bar_height}" fill="#0b5394"/>'
            f'<text class="value" x="{length + 4}" y="{y + label_height + bar_height - 2}">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
