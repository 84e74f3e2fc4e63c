"""Charts as inline SVG, drawn on the server: no JavaScript, no external assets, printable."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe & Ito), in series order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
CHAR_WIDTH = 6.5  # approximate width of a legend character at 11px, to wrap the legend


def _step(top: int) -> int:
    """A whole-number tick step (1, 2, 5 x 10^n) giving at most five intervals: counts are integers."""
    rough = max(top / 5, 1)
    magnitude = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if rough <= factor * magnitude:
            return int(factor * magnitude)
    return int(10 * magnitude)


def stacked_bars(
    *,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    empty: str = "",
    width: int = 640,
    height: int = 240,
) -> SafeString:
    """A stacked bar chart: one bar per label, one coloured segment per series.

    Series whose total is zero are left out. Each segment carries a ``<title>`` (a tooltip, and
    text for screen readers); the legend lists the series with their totals and wraps.
    """
    series = [(name, values) for name, values in series if sum(values)]
    left, right, top = 40, 10, 28
    legend_rows: list[list[tuple[int, str, float]]] = [[]]
    x = float(left)
    for index, (name, values) in enumerate(series):
        text = f"{name} ({sum(values)})"
        item_width = 24 + CHAR_WIDTH * len(text)
        if legend_rows[-1] and x + item_width > width - right:
            legend_rows.append([])
            x = float(left)
        legend_rows[-1].append((index, text, x))
        x += item_width
    legend_height = 16 * len(legend_rows) + 4
    height += legend_height
    bottom = 24 + legend_height
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _name, values in series) for i in range(len(labels))]
    step = _step(max(totals, default=0))
    top_value = max(step * math.ceil(max(totals, default=0) / step), step)
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.6, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for value in range(0, top_value + 1, step):
        y = top + plot_h - plot_h * value / top_value
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value}</text>')
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        y = float(top + plot_h)
        for s, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(label)}: {escape(name)} {value}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="tick">'
            f"{escape(label)}</text>"
        )
    for row, items in enumerate(legend_rows):
        y = top + plot_h + 26 + 16 * row
        for index, text, lx in items:
            parts.append(
                f'<rect x="{lx:.1f}" y="{y}" width="10" height="10" fill="{PALETTE[index % len(PALETTE)]}"/>'
                f'<text x="{lx + 14:.1f}" y="{y + 9}" class="legend">{escape(text)}</text>'
            )
    if not series:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="tick">'
            f"{escape(empty)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part above is escaped
