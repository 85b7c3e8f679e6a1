"""Small server-side SVG bar charts for the ward metrics page.

Drawn here rather than with a chart library from a CDN, so the page loads
nothing from outside the site.
"""

from html import escape

WIDTH = 640
HEIGHT = 180
MARGIN = 34


def bar_chart(
    title: str,
    labels: list[str],
    values: list[float | None],
    *,
    maximum: float | None = None,
    percent: bool = False,
) -> str:
    """Return an SVG bar chart; a value of None draws as "no data"."""
    top = (
        maximum
        if maximum is not None
        else max([v for v in values if v is not None] or [1]) or 1
    )
    count = max(len(values), 1)
    slot = (WIDTH - MARGIN) / count
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{MARGIN}" y="14" class="chart-title">{escape(title)}</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - 24}" x2="{WIDTH}" y2="{HEIGHT - 24}" '
        f'class="axis"/>',
    ]
    plot = HEIGHT - 24 - 24
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = MARGIN + index * slot + 2
        if value is None:
            parts.append(
                f'<text x="{x:.0f}" y="{HEIGHT - 30}" class="no-data">–</text>'
            )
        else:
            height = plot * (value / top)
            shown = f"{value:.0%}" if percent else f"{value:g}"
            parts.append(
                f'<rect x="{x:.0f}" y="{HEIGHT - 24 - height:.0f}" '
                f'width="{max(slot - 4, 2):.0f}" height="{height:.0f}" '
                f'class="bar-value"><title>{escape(label)}: {shown}</title></rect>'
            )
        if count <= 16 or index % 2 == 0:
            parts.append(
                f'<text x="{x:.0f}" y="{HEIGHT - 8}" class="tick">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
