"""Small inline-SVG charts for the self-contained HTML report (no scripts, no external files)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")


def bar_chart(
    values: dict[str, float | None], *, title: str, unit: str = "", max_value: float | None = None
) -> str:
    """Horizontal bars, one per label (e.g. accuracy per intent); None draws an empty bar."""
    if not values:
        return _empty(title)
    width, label_w, row_h = 640, 210, 22
    top = max_value if max_value is not None else max((v or 0) for v in values.values()) or 1.0
    height = 30 + row_h * len(values)
    parts = [_svg_open(width, height, title), _title(title)]
    for i, (label, value) in enumerate(values.items()):
        y = 26 + i * row_h
        bar = 0 if value is None else max(0.0, min(1.0, value / top)) * (width - label_w - 70)
        color = PALETTE[0] if value is None or value >= 0.9 * top else PALETTE[1]
        shown = "n/a" if value is None else f"{value:.3g}{unit}"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(str(label)[:32])}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{row_h - 7}" '
            f'fill="{color}"/>'
            f'<text x="{label_w + bar + 4:.1f}" y="{y + 14}" font-size="11">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(series: dict[str, dict[str, float]], *, title: str, x_label: str = "k") -> str:
    """Lines over a shared x axis (e.g. recall@k per retrieval setting), y from 0 to 1."""
    points = {
        name: sorted((float(k), v) for k, v in s.items() if v is not None)
        for name, s in series.items()
    }
    points = {n: p for n, p in points.items() if p}
    if not points:
        return _empty(title)
    width, height, left, bottom, right, top = 640, 300, 50, 40, 170, 30
    xs = sorted({x for p in points.values() for x, _ in p})
    x_min, x_max = xs[0], xs[-1] if xs[-1] > xs[0] else xs[0] + 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x_min) / (x_max - x_min) * plot_w

    def py(y: float) -> float:
        return top + (1 - y) * plot_h

    parts = [_svg_open(width, height, title), _title(title)]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
            f'stroke="#e5e7eb"/><text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" '
            f'font-size="11">{tick:g}</text>'
        )
    for x in xs:
        parts.append(
            f'<text x="{px(x):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="11">{x:g}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" '
        f'font-size="12">{escape(x_label)}</text>'
    )
    for i, (name, pts) in enumerate(points.items()):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.extend(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>' for x, y in pts
        )
        ly = top + 14 + i * 18
        parts.append(
            f'<rect x="{width - right + 12}" y="{ly - 9}" width="12" height="3" '
            f'fill="{color}"/><text x="{width - right + 28}" y="{ly}" font-size="11">'
            f"{escape(name[:24])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float], *, title: str, unit: str, bins: int = 12) -> str:
    """Counts of ``values`` in equal-width bins (e.g. latency per answer)."""
    data = [v for v in values if v is not None]
    if not data:
        return _empty(title)
    low, high = min(data), max(data)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in data:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    width, height, left, bottom, top = 640, 240, 40, 42, 30
    plot_w, plot_h = width - left - 20, height - top - bottom
    bar_w = plot_w / bins
    peak = max(counts)
    parts = [_svg_open(width, height, title), _title(f"{title} (n={len(data)})")]
    for i, c in enumerate(counts):
        h = c / peak * plot_h
        x = left + i * bar_w
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"/>'
        )
        if c:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                f'text-anchor="middle" font-size="10">{c}</text>'
            )
    for i in (0, bins // 2, bins):
        x = left + i * bar_w
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
            f'font-size="11">{low + span * i / bins:.3g}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" '
        f'font-size="12">{escape(unit)}</text></svg>'
    )
    return "".join(parts)


def _svg_open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'font-family="sans-serif">'
    )


def _title(text: str) -> str:
    return f'<text x="8" y="17" font-size="13" font-weight="bold">{escape(text)}</text>'


def _empty(title: str) -> str:
    return (
        f"{_svg_open(640, 50, title)}{_title(title)}"
        '<text x="8" y="40" font-size="12" fill="#6b7280">no data in this run</text></svg>'
    )
