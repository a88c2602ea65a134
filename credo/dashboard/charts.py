"""Charts as inline SVG, drawn on the server.

No chart library and no script: the pages work offline and without JavaScript, a screen reader
gets each chart's ``<title>``/``<desc>`` (and the page puts the same numbers in a table beside
it), and a chart is a pure function of its numbers, so it is tested like any other function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

__all__ = ["BandSpan", "band_class", "gauge", "line_chart", "radar", "stacked_bars"]

# Poor to excellent: red, orange, amber, green, teal; colour-blind safe enough beside the
# band's name, which is always printed next to the colour.
_PALETTE = ("#c0392b", "#e67e22", "#b7950b", "#45a049", "#117a65", "#1f618d", "#6c3483")


@dataclass(frozen=True)
class BandSpan:
    name: str
    low: int
    high: int


def band_class(bands: Sequence[BandSpan], name: str) -> str:
    """The CSS class (``band-K``, colours in credo.css in ``_PALETTE``'s order) of a band: a
    class, not an inline style, so the pages' Content-Security-Policy needs no inline styles."""
    for k, band in enumerate(bands):
        if band.name == name:
            return f"band-{k % len(_PALETTE)}"
    return "band-none"


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _label(title: str, desc: str, ident: str) -> str:
    return (
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )


def _svg(ident: str, width: int, height: int, title: str, desc: str, body: str) -> Markup:
    return Markup(
        f'<svg id="{ident}" class="chart" viewBox="0 0 {width} {height}" role="img"'
        f' aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">'
        f"{_label(title, desc, ident)}{body}</svg>"
    )


def gauge(
    score: float,
    band: str,
    bands: Sequence[BandSpan],
    low: int,
    high: int,
    *,
    ident: str = "gauge",
) -> Markup:
    """A half circle from ``low`` (left) to ``high`` (right), coloured by band, marked at
    ``score``."""
    cx, cy, r, w = 150.0, 150.0, 120.0, 22.0

    def at(value: float, radius: float) -> tuple[float, float]:
        share = (min(max(value, low), high) - low) / (high - low)
        theta = math.pi * (1.0 - share)
        return cx + radius * math.cos(theta), cy - radius * math.sin(theta)

    parts = []
    for k, b in enumerate(bands):
        start, end = max(b.low, low), min(b.high + 1, high)
        if end <= start:
            continue
        (x0, y0), (x1, y1) = at(start, r), at(end, r)
        colour = _PALETTE[k % len(_PALETTE)]
        parts.append(
            f'<path d="M {_fmt(x0)} {_fmt(y0)} A {r:g} {r:g} 0 0 1 {_fmt(x1)} {_fmt(y1)}"'
            f' fill="none" stroke="{colour}" stroke-width="{w:g}"><title>{escape(b.name)}:'
            f" {b.low}–{b.high}</title></path>"
        )
    nx, ny = at(score, r - w)
    parts.append(
        f'<line x1="{cx:g}" y1="{cy:g}" x2="{_fmt(nx)}" y2="{_fmt(ny)}" stroke="#222"'
        f' stroke-width="4" stroke-linecap="round"/><circle cx="{cx:g}" cy="{cy:g}" r="7"'
        f' fill="#222"/>'
    )
    parts.append(
        f'<text x="{cx - r:g}" y="{cy + 20:g}" text-anchor="middle" class="tick">{low}</text>'
        f'<text x="{cx + r:g}" y="{cy + 20:g}" text-anchor="middle" class="tick">{high}</text>'
    )
    desc = (
        f"Score {score:.0f} on a scale from {low} to {high}, in the band {band}. Bands: "
        + "; ".join(f"{b.name} {b.low}–{b.high}" for b in bands)
        + "."
    )
    return _svg(
        ident,
        300,
        175,
        f"Score {score:.0f}, {band}",
        desc,
        "".join(parts),
    )


def radar(shares: Sequence[tuple[str, float | None]], *, ident: str = "radar") -> Markup:
    """A pentagon (one axis per dimension) with each dimension's share of its maximum."""
    width, height, r = 520, 330, 105.0
    cx, cy = width / 2, 175.0
    n = len(shares)

    def point(k: int, share: float) -> tuple[float, float]:
        theta = -math.pi / 2 + 2 * math.pi * k / n
        return cx + r * share * math.cos(theta), cy + r * share * math.sin(theta)

    parts = []
    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(k, ring) for k in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#ccc" stroke-width="1"/>')
    for k, (label, share) in enumerate(shares):
        x, y = point(k, 1.0)
        lx, ly = point(k, 1.22)
        anchor = "middle" if abs(lx - cx) < 10 else ("start" if lx > cx else "end")
        ly = ly - 14 if ly < cy - r * 0.5 else ly
        pct = "not scored" if share is None else f"{share:.0%}"
        parts.append(
            f'<line x1="{cx:g}" y1="{cy:g}" x2="{_fmt(x)}" y2="{_fmt(y)}" stroke="#ccc"/>'
            f'<text x="{_fmt(lx)}" y="{_fmt(ly)}" text-anchor="{anchor}" class="axis">'
            f'{escape(label)}<tspan x="{_fmt(lx)}" dy="1.2em" class="pct">{pct}</tspan></text>'
        )
    pts = " ".join(
        f"{_fmt(x)},{_fmt(y)}"
        for x, y in (point(k, min(max(s or 0.0, 0.0), 1.0)) for k, (_, s) in enumerate(shares))
    )
    parts.append(
        f'<polygon points="{pts}" fill="rgba(17,122,101,0.35)" stroke="#117a65" stroke-width="2"/>'
    )
    desc = "; ".join(
        f"{label}: {'not scored' if s is None else f'{s:.0%} of its maximum'}"
        for label, s in shares
    )
    return _svg(ident, width, height, "The five dimensions of the score", desc, "".join(parts))


def line_chart(
    points: Sequence[tuple[str, float]],
    bands: Sequence[BandSpan],
    *,
    ident: str = "history",
    width: int = 640,
    height: int = 240,
) -> Markup:
    """Score by month, over the bands' colours faintly in the background."""
    left, right, top, bottom = 44.0, 30.0, 12.0, 36.0
    values = [v for _, v in points] or [0.0]
    lo: float = min(min(values) - 30, min((b.low for b in bands), default=0))
    hi: float = max(max(values) + 30, lo + 60)
    lo = max(lo, min(values) - 120)
    lo, hi = math.floor(lo / 50) * 50, math.ceil(hi / 50) * 50
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    def x_of(k: int) -> float:
        return left + (plot_w * k / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    parts = []
    for k, b in enumerate(bands):
        y0, y1 = y_of(min(b.high + 1, hi)), y_of(max(b.low, lo))
        if y1 > y0:
            parts.append(
                f'<rect x="{left:g}" y="{_fmt(y0)}" width="{plot_w:g}" height="{_fmt(y1 - y0)}"'
                f' fill="{_PALETTE[k % len(_PALETTE)]}" opacity="0.10"/>'
            )
    for tick in range(int(lo), int(hi) + 1, 50):
        y = _fmt(y_of(tick))
        parts.append(
            f'<line x1="{left:g}" x2="{width - right:g}" y1="{y}" y2="{y}"'
            f' stroke="#ddd"/><text x="{left - 6:g}" y="{_fmt(y_of(tick) + 4)}" text-anchor="end"'
            f' class="tick">{tick}</text>'
        )
    path = " ".join(
        f"{'M' if k == 0 else 'L'} {_fmt(x_of(k))} {_fmt(y_of(v))}"
        for k, (_, v) in enumerate(points)
    )
    if points:
        parts.append(f'<path d="{path}" fill="none" stroke="#1f618d" stroke-width="2.5"/>')
    step = max(1, math.ceil(len(points) / 8))
    for k, (label, v) in enumerate(points):
        parts.append(
            f'<circle cx="{_fmt(x_of(k))}" cy="{_fmt(y_of(v))}" r="4" fill="#1f618d">'
            f"<title>{escape(label)}: {v:.0f}</title></circle>"
        )
        if k % step == 0 or k == len(points) - 1:
            parts.append(
                f'<text x="{_fmt(x_of(k))}" y="{height - 12:g}" text-anchor="middle"'
                f' class="tick">{escape(label)}</text>'
            )
    desc = "; ".join(f"{label}: {v:.0f}" for label, v in points) if points else "no scores yet"
    return _svg(ident, width, height, "Score history by month", desc, "".join(parts))


def stacked_bars(
    columns: Sequence[tuple[str, dict[str, int]]],
    bands: Sequence[BandSpan],
    *,
    ident: str = "distribution",
    width: int = 640,
    height: int = 260,
) -> Markup:
    """One bar per month, split by band as shares of the persons scored that month."""
    left, right, top, bottom = 40.0, 120.0, 10.0, 36.0
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(columns), 1)
    parts = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{left:g}" x2="{left + plot_w:g}" y1="{_fmt(y)}" y2="{_fmt(y)}"'
            f' stroke="#eee"/><text x="{left - 6:g}" y="{_fmt(y + 4)}" text-anchor="end"'
            f' class="tick">{pct}%</text>'
        )
    step = max(1, math.ceil(len(columns) / 8))
    for k, (label, counts) in enumerate(columns):
        total = sum(counts.values()) or 1
        y = top + plot_h
        x = left + k * slot + slot * 0.15
        for j, b in enumerate(bands):
            h = plot_h * counts.get(b.name, 0) / total
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(slot * 0.7)}" height="{_fmt(h)}"'
                f' fill="{_PALETTE[j % len(_PALETTE)]}"><title>{escape(label)}, {escape(b.name)}:'
                f" {counts.get(b.name, 0):,} ({counts.get(b.name, 0) / total:.1%})</title></rect>"
            )
        if (len(columns) - 1 - k) % step == 0:  # counted from the latest month, always shown
            parts.append(
                f'<text x="{_fmt(x + slot * 0.35)}" y="{height - 12:g}" text-anchor="middle"'
                f' class="tick">{escape(label)}</text>'
            )
    for j, b in enumerate(reversed(bands)):
        colour = _PALETTE[(len(bands) - 1 - j) % len(_PALETTE)]
        y = top + 8 + j * 20
        parts.append(
            f'<rect x="{width - right + 12:g}" y="{y:g}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{width - right + 30:g}" y="{y + 10:g}" class="tick">{escape(b.name)}</text>'
        )
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{b.name} {counts.get(b.name, 0):,}" for b in bands)
        for label, counts in columns
    )
    return _svg(ident, width, height, "Persons by band and month", desc, "".join(parts))
