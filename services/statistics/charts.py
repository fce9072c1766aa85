"""Server-rendered SVG bar charts of released (noisy) values.

Released values may be negative (noise added to a small count); such a bar is
drawn at zero length and its label shows the released value unchanged.
"""

from django.utils.html import escape


def bar_svg(*, title: str, rows: list[tuple[str, int | float, str]], width: int = 640, bar_height: int = 18) -> str:
    """Return ROWS (label, value, value as shown) as a horizontal bar chart in SVG."""
    label_width, value_width, gap = 230, 90, 4
    plot_width = width - label_width - value_width
    longest = max((value for _, value, _ in rows), default=0) or 1
    height = max(1, len(rows)) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="onecard-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    for position, (label, value, shown) in enumerate(rows):
        y = gap + position * (bar_height + gap)
        length = max(0, round(plot_width * value / longest))
        parts.append(
            f'<text class="label" x="{label_width - 6}" y="{y + bar_height * 0.75:.0f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length}" height="{bar_height}" fill="#417690"/>'
            f'<text class="value" x="{label_width + length + 4}" y="{y + bar_height * 0.75:.0f}">'
            f"{escape(shown)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
