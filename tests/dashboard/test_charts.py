"""The SVG charts and the event summaries: pure functions, checked without a browser."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from credo.dashboard.charts import (
    _PALETTE,
    BandSpan,
    band_class,
    gauge,
    line_chart,
    radar,
    stacked_bars,
)
from credo.dashboard.views import EVENT_LABELS, event_summary
from credo.ingest.events import EVENT_MODELS

BANDS = [BandSpan("poor", 350, 549), BandSpan("fair", 550, 599), BandSpan("good", 600, 649),
         BandSpan("very good", 650, 699), BandSpan("excellent", 700, 950)]  # fmt: skip
NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _needle_end(svg: str) -> tuple[float, float]:
    line = _parse(svg).find("s:line", NS)
    assert line is not None
    return float(line.get("x2", "nan")), float(line.get("y2", "nan"))


def test_gauge_points_left_at_the_bottom_of_the_scale_and_right_at_the_top() -> None:
    x_low, y_low = _needle_end(gauge(350, "poor", BANDS, 350, 950))
    x_mid, y_mid = _needle_end(gauge(650, "very good", BANDS, 350, 950))
    x_high, y_high = _needle_end(gauge(950, "excellent", BANDS, 350, 950))
    assert x_low < x_mid < x_high
    assert y_mid < y_low and y_mid < y_high  # the top of the arch in the middle
    assert abs(y_low - y_high) < 1e-6
    # Out-of-range scores are drawn at the ends, not off the dial.
    assert _needle_end(gauge(2000, "excellent", BANDS, 350, 950)) == (x_high, y_high)


def test_gauge_has_one_arc_per_band_and_says_the_score_in_words() -> None:
    svg = _parse(gauge(612, "good", BANDS, 350, 950))
    assert len(svg.findall("s:path", NS)) == len(BANDS)
    title = svg.find("s:title", NS)
    assert title is not None and title.text == "Score 612, good"
    desc = svg.find("s:desc", NS)
    assert desc is not None and "in the band good" in (desc.text or "")
    assert svg.get("role") == "img"


def test_radar_clamps_shares_and_names_every_axis() -> None:
    shares = [("Credit history", 1.5), ("Behaviour", 0.5), ("Fulfilment", None),
              ("Identity", -0.2), ("Connections", 1.0)]  # fmt: skip
    svg = _parse(radar(shares))
    polygons = svg.findall("s:polygon", NS)
    rings, shape = polygons[:-1], polygons[-1]
    outer = [tuple(map(float, p.split(","))) for p in rings[-1].get("points", "").split()]
    drawn = [tuple(map(float, p.split(","))) for p in shape.get("points", "").split()]
    assert drawn[0] == outer[0] and drawn[4] == outer[4]  # 150% and 100% both at the rim
    centre = (260.0, 175.0)
    assert drawn[2] == centre and drawn[3] == centre  # not scored and below zero: the centre
    desc = svg.find("s:desc", NS)
    assert desc is not None and "Fulfilment: not scored" in (desc.text or "")
    assert len(svg.findall("s:text", NS)) == len(shares)


def test_line_chart_has_a_point_per_month_in_order() -> None:
    points = [("2026-07", 560.0), ("2026-08", 610.0), ("2026-09", 590.0)]
    svg = _parse(line_chart(points, BANDS))
    circles = svg.findall("s:circle", NS)
    assert len(circles) == 3
    ys = [float(c.get("cy", "nan")) for c in circles]
    assert ys[1] < ys[2] < ys[0]  # higher scores are drawn higher
    xs = [float(c.get("cx", "nan")) for c in circles]
    assert xs == sorted(xs)
    assert [c.findtext("s:title", namespaces=NS) for c in circles] == [
        "2026-07: 560", "2026-08: 610", "2026-09: 590"]  # fmt: skip
    assert _parse(line_chart([], BANDS)).find("s:desc", NS).text == "no scores yet"  # type: ignore[union-attr]


def test_stacked_bars_split_each_month_by_band_share() -> None:
    columns = [("2026-09", {"poor": 1, "good": 3}), ("2026-10", {"excellent": 2})]
    svg = _parse(stacked_bars(columns, BANDS))
    bars = [r for r in svg.findall("s:rect", NS) if r.find("s:title", NS) is not None]
    heights = {r.findtext("s:title", namespaces=NS): float(r.get("height", "0")) for r in bars}
    assert heights["2026-09, good: 3 (75.0%)"] == pytest.approx(
        3 * heights["2026-09, poor: 1 (25.0%)"]
    )
    assert heights["2026-10, excellent: 2 (100.0%)"] == pytest.approx(
        heights["2026-09, good: 3 (75.0%)"] + heights["2026-09, poor: 1 (25.0%)"])  # fmt: skip


def test_stacked_bars_label_months_evenly_and_always_the_latest() -> None:
    months = [f"2025-{m:02d}" for m in range(2, 13)] + ["2026-01"]  # 12, as in the demo
    svg = _parse(stacked_bars([(m, {"good": 1}) for m in months], BANDS))
    labels = [t.text for t in svg.findall("s:text", NS) if t.text and t.text[:2] == "20"]
    assert labels[-1] == "2026-01"
    shown = [months.index(label) for label in labels]
    assert len({b - a for a, b in itertools.pairwise(shown)}) == 1  # even spacing


def test_text_in_charts_is_escaped() -> None:
    svg = str(radar([("<script>", 0.5)] * 5))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    _parse(svg)


@pytest.mark.parametrize("kind", sorted(EVENT_MODELS))
def test_every_event_type_has_a_label_and_a_summary_without_none(kind: str) -> None:
    assert kind in EVENT_LABELS
    text = event_summary({"event_type": kind})
    assert text and "None" not in text
    full = event_summary({"event_type": kind, "amount": 12.5, "partner": "hellobike",
                          "court": "法院", "attribute": "education", "attribute_value": "bachelor",
                          "conduct_kind": "volunteering", "authority": "街道办",
                          "reference": "R1", "consent_action": "grant"})  # fmt: skip
    assert "None" not in full and not re.search(r"\{|\}", full)


def test_each_band_class_has_its_palette_colour_in_the_stylesheet() -> None:
    """The badge's colour comes from a class (no inline style under the pages' CSP)."""
    css = (Path(__file__).parents[2] / "credo/dashboard/static/credo.css").read_text()
    bands = [BandSpan(f"b{k}", 350 + k, 351 + k) for k in range(len(_PALETTE) + 1)]
    for k, band in enumerate(bands):
        cls = band_class(bands, band.name)
        colour = re.search(rf"\.{cls} {{ background: (#[0-9a-f]{{6}}); }}", css)
        assert colour is not None and colour.group(1) == _PALETTE[k % len(_PALETTE)]
    assert band_class(bands, "unknown") == "band-none"
    assert ".band-none { background:" in css
