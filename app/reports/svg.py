"""Small server-side SVG charts for the morning report: no script, no external resource.

Charts are built as markup strings from numbers (every label escaped), so the report is one
self-contained HTML file that prints identically in a headless browser and opens offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

INK, GRID, ACCENT, ALERT, MUTED = "#1f2933", "#d9dee3", "#2f6db5", "#c0392b", "#7b8794"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="11">' + "".join(body) + "</svg>"
    )


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "",
    width: int = 640, fmt: str = "{:,.0f}",
) -> str:  # fmt: skip
    """Horizontal bars, largest first as given; negative values drawn leftwards in red."""
    row, left, right = 22, 150, 90
    height = 28 + row * max(len(values), 1)
    span = max((abs(v) for v in values), default=1.0) or 1.0
    zero = left + (width - left - right) * (0.5 if min(values, default=0) < 0 else 0.0)
    scale = (width - right - zero) / span
    body = [f'<text x="0" y="14" font-weight="bold" fill="{INK}">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 24 + i * row
        w = abs(value) * scale
        x = zero if value >= 0 else zero - w
        colour = ACCENT if value >= 0 else ALERT
        body.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" fill="{INK}">{escape(label)}'
            f'</text><rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 7}" '
            f'fill="{colour}"/><text x="{x + w + 4:.1f}" y="{y + 13}" fill="{INK}">'
            f"{escape(fmt.format(value))}{escape(unit)}</text>"
        )
    body.append(f'<line x1="{zero}" y1="22" x2="{zero}" y2="{height - 4}" stroke="{MUTED}"/>')
    return _svg(width, height, body, title)


def backtest_chart(
    dates: Sequence[str], pnl: Sequence[float], var: Sequence[float], *, title: str,
    width: int = 680, height: int = 230,
) -> str:  # fmt: skip
    """Daily P&L bars against the negative VaR line; exceptions (loss beyond VaR) in red."""
    left, right, top, bottom = 70, 10, 24, 28
    lo = min(min(pnl, default=0.0), -max(var, default=0.0))
    hi = max(max(pnl, default=0.0), 0.0)
    span = (hi - lo) or 1.0
    n = max(len(pnl), 1)
    step = (width - left - right) / n

    def y_of(v: float) -> float:
        return top + (hi - v) / span * (height - top - bottom)

    body = [f'<text x="0" y="14" font-weight="bold" fill="{INK}">{escape(title)}</text>']
    for tick in (hi, 0.0, lo):
        yy = y_of(tick)
        body.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{tick:,.0f}</text>"
        )
    zero = y_of(0.0)
    for i, value in enumerate(pnl):
        x = left + i * step
        exception = -value > var[i]
        yy = y_of(value)
        body.append(
            f'<rect x="{x:.1f}" y="{min(yy, zero):.1f}" width="{max(step - 0.4, 0.6):.1f}" '
            f'height="{abs(zero - yy):.1f}" fill="{ALERT if exception else MUTED}"/>'
        )
    points = " ".join(f"{left + (i + 0.5) * step:.1f},{y_of(-v):.1f}" for i, v in enumerate(var))
    body.append(f'<polyline points="{points}" fill="none" stroke="{ACCENT}" stroke-width="1.5"/>')
    if dates:
        body.append(
            f'<text x="{left}" y="{height - 8}" fill="{MUTED}">{escape(dates[0])}</text>'
            f'<text x="{width - right}" y="{height - 8}" text-anchor="end" fill="{MUTED}">'
            f"{escape(dates[-1])}</text>"
        )
    body.append(
        f'<text x="{width - right}" y="14" text-anchor="end" fill="{ACCENT}">- VaR 99%</text>'
    )
    return _svg(width, height, body, title)


def histogram(
    edges: Sequence[float], counts: Sequence[int], *, title: str, width: int = 640,
    height: int = 200, previous: Sequence[int] | None = None,
) -> str:  # fmt: skip
    """Bars of ``counts`` between ``edges``; an optional previous distribution as an outline."""
    left, right, top, bottom = 40, 10, 24, 28
    peak = max([*counts, *(previous or [])], default=1) or 1
    n = max(len(counts), 1)
    step = (width - left - right) / n
    base = height - bottom
    body = [f'<text x="0" y="14" font-weight="bold" fill="{INK}">{escape(title)}</text>']
    for i, count in enumerate(counts):
        h = count / peak * (base - top)
        body.append(
            f'<rect x="{left + i * step + 1:.1f}" y="{base - h:.1f}" width="{step - 2:.1f}" '
            f'height="{h:.1f}" fill="{ACCENT}"/>'
        )
        if previous is not None:
            ph = previous[i] / peak * (base - top)
            body.append(
                f'<rect x="{left + i * step + 1:.1f}" y="{base - ph:.1f}" width="{step - 2:.1f}" '
                f'height="{ph:.1f}" fill="none" stroke="{INK}" stroke-dasharray="3,2"/>'
            )
    for i in range(0, len(edges), max(1, len(edges) // 6)):
        body.append(
            f'<text x="{left + i * step:.1f}" y="{height - 10}" text-anchor="middle" '
            f'fill="{MUTED}">{edges[i]:.0%}</text>'
        )
    body.append(
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" fill="{MUTED}">{peak}</text>'
    )
    return _svg(width, height, body, title)
