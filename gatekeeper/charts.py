"""Server-rendered SVG charts for the admin: no script, no CDN, every label escaped.

Each chart carries its numbers as text (labels and <title> tooltips), so it reads
without a mouse, prints, and can be checked by a test.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

from .stats import Rate

BAR = "#2f6f4f"
WITHDRAW = "#b5542c"
TRACK = "#e6ece8"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" class="chart"><title>{escape(label)}</title>{"".join(body)}</svg>'
    )


def decisions_per_day(per_day: dict[date, dict[str, int]], width: int = 720, height: int = 200) -> Markup:
    """Stacked columns: grants and updates, withdrawals on top; the daily total above each."""
    days = sorted(per_day)
    top = max((sum(per_day[d].values()) for d in days), default=0) or 1
    left, bottom, plot_h = 36, 28, height - 48
    step = (width - left - 8) / max(len(days), 1)
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{height - bottom - plot_h + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{left - 6}" y="{height - bottom + 4}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, day in enumerate(days):
        counts = per_day[day]
        decided = counts.get("grant", 0) + counts.get("refuse", 0)
        withdrawn = counts.get("withdraw", 0)
        x = left + i * step + 1
        w = max(step - 2, 1)
        h_decided = plot_h * decided / top
        h_withdrawn = plot_h * withdrawn / top
        y = height - bottom - h_decided
        tip = f"{day.isoformat()}: {decided} decisions, {withdrawn} withdrawals"
        body.append(
            f'<g class="day" data-day="{day.isoformat()}" data-decisions="{decided}" data-withdrawals="{withdrawn}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h_decided:.1f}" fill="{BAR}"/>'
            f'<rect x="{x:.1f}" y="{y - h_withdrawn:.1f}" width="{w:.1f}" height="{h_withdrawn:.1f}" fill="{WITHDRAW}"/>'
        )
        if decided + withdrawn:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{y - h_withdrawn - 3:.1f}" text-anchor="middle" font-size="10">'
                f"{decided + withdrawn}</text>"
            )
        body.append("</g>")
        if i % max(len(days) // 6, 1) == 0:
            body.append(
                f'<text x="{x:.1f}" y="{height - 10}" font-size="10">{day.strftime("%d %b")}</text>'
            )
    total = sum(sum(c.values()) for c in per_day.values())
    label = f"Decisions per day (UTC), {days[0].isoformat()} to {days[-1].isoformat()}: {total} in all" if days else "No days"
    return _svg(width, height, label, body)


def acceptance(rates: dict[str, Rate], title: str, width: int = 480) -> Markup:
    """One horizontal bar per category: the share of decisions that granted it."""
    row, label_w = 26, 130
    height = row * len(rates) + 8
    bar_w = width - label_w - 120
    body = []
    for i, (category, rate) in enumerate(rates.items()):
        y = 4 + i * row
        filled = bar_w * rate.percent / 100
        text = f"{rate.percent:.0f}% ({rate.granted} of {rate.total})"
        body.append(
            f'<g class="rate" data-category="{escape(category)}" data-granted="{rate.granted}" data-total="{rate.total}">'
            f"<title>{escape(category)}: {escape(text)}</title>"
            f'<text x="0" y="{y + 15}" font-size="12">{escape(category)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="16" fill="{TRACK}"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{filled:.1f}" height="16" fill="{BAR}"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 15}" font-size="12">{escape(text)}</text></g>'
        )
    return _svg(width, height, title, body)
