"""Tiny inline-SVG charts for the validation report: no plotting dependency, one HTML file.

The report must open anywhere (an auditor's laptop, a CI artefact) without a Python stack, and
its text must diff; a self-contained HTML page with inline SVG does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "line_chart"]

_W, _H, _PAD = 420, 280, 44
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#7f7f7f")


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high == low:
        return (out_low + out_high) / 2
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def _frame(title: str, x_label: str, y_label: str, body: list[str], legend: Sequence[str]) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}"'
        f' viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
        f'<text x="{_W / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>',
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - 10}" y2="{_H - _PAD}" stroke="#333"/>',
        f'<line x1="{_PAD}" y1="26" x2="{_PAD}" y2="{_H - _PAD}" stroke="#333"/>',
        f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle" font-size="11">'
        f"{escape(x_label)}</text>",
        f'<text x="12" y="{_H / 2}" font-size="11" text-anchor="middle"'
        f' transform="rotate(-90 12 {_H / 2})">{escape(y_label)}</text>',
        *body,
    ]
    for i, name in enumerate(legend):
        y = 34 + 14 * i
        parts.append(
            f'<rect x="{_W - 120}" y="{y - 9}" width="10" height="10"'
            f' fill="{_COLOURS[i % len(_COLOURS)]}"/>'
            f'<text x="{_W - 105}" y="{y}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _ticks(low: float, high: float, horizontal: bool) -> list[str]:
    out = []
    for k in range(5):
        value = low + (high - low) * k / 4
        if horizontal:
            x = _scale(value, low, high, _PAD, _W - 10)
            out.append(
                f'<text x="{x:.1f}" y="{_H - _PAD + 14}" font-size="10"'
                f' text-anchor="middle">{value:.3g}</text>'
            )
        else:
            y = _scale(value, low, high, _H - _PAD, 26)
            out.append(
                f'<text x="{_PAD - 4}" y="{y + 3:.1f}" font-size="10"'
                f' text-anchor="end">{value:.3g}</text>'
            )
    return out


def line_chart(
    title: str,
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
) -> str:
    """Lines (x, y) on shared axes; ``diagonal`` draws y = x for reference."""
    xs = [x for xv, _ in series.values() for x in xv]
    ys = [y for _, yv in series.values() for y in yv]
    x0, x1 = min(xs, default=0.0), max(xs, default=1.0)
    y0, y1 = min(ys, default=0.0), max(ys, default=1.0)
    if diagonal:
        x0 = y0 = min(x0, y0)
        x1 = y1 = max(x1, y1)
    body = _ticks(x0, x1, True) + _ticks(y0, y1, False)
    if diagonal:
        body.append(
            f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - 10}" y2="26"'
            ' stroke="#bbb" stroke-dasharray="4 3"/>'
        )
    for i, (xv, yv) in enumerate(series.values()):
        points = " ".join(
            f"{_scale(x, x0, x1, _PAD, _W - 10):.1f},{_scale(y, y0, y1, _H - _PAD, 26):.1f}"
            for x, y in zip(xv, yv, strict=True)
        )
        body.append(
            f'<polyline fill="none" stroke="{_COLOURS[i % len(_COLOURS)]}"'
            f' stroke-width="1.8" points="{points}"/>'
        )
    return _frame(title, x_label, y_label, body, list(series))


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    x_label: str,
    y_label: str,
) -> str:
    """Grouped bars, one group per label."""
    top = max((v for values in series.values() for v in values), default=1.0) or 1.0
    width = (_W - 10 - _PAD) / max(len(labels), 1)
    bar = width * 0.8 / max(len(series), 1)
    body = _ticks(0.0, top, False)
    for g, label in enumerate(labels):
        x = _PAD + g * width
        if len(labels) <= 12 or g % max(len(labels) // 10, 1) == 0:
            body.append(
                f'<text x="{x + width / 2:.1f}" y="{_H - _PAD + 14}" font-size="9"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
        for i, values in enumerate(series.values()):
            height = _scale(values[g], 0.0, top, 0.0, _H - _PAD - 26)
            body.append(
                f'<rect x="{x + width * 0.1 + i * bar:.1f}" y="{_H - _PAD - height:.1f}"'
                f' width="{bar:.1f}" height="{height:.1f}"'
                f' fill="{_COLOURS[i % len(_COLOURS)]}"/>'
            )
    return _frame(title, x_label, y_label, body, list(series))
