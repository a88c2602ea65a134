"""Binning: cut points read well, monotonic where asked, and nothing informative is merged."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.models.binning import (
    categorical_groups,
    nice_cut,
    numeric_cuts,
    weights_of_evidence,
)

finite = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)


@given(a=finite, b=finite)
def test_nice_cut_separates_neighbours(a: float, b: float) -> None:
    low, high = min(a, b), max(a, b)
    if low == high:
        return
    cut = nice_cut(low, high)
    assert low < cut <= high


def test_nice_cut_prefers_short_numbers() -> None:
    assert nice_cut(24.0, 25.0) == 25.0
    assert nice_cut(24.3, 24.7) == 24.4
    assert nice_cut(1234.0, 1999.0) == 1300.0


def _bad_rates(x: np.ndarray, y: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    index = np.searchsorted(np.array(cuts), x, side="right")
    return np.array([y[index == i].mean() for i in range(len(cuts) + 1)])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    slope=st.floats(-2, 2),
    direction=st.sampled_from(["ascending", "descending", "auto"]),
)
def test_bins_are_monotonic_in_the_declared_direction(
    seed: int, slope: float, direction: str
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(slope * x + 0.3 * np.sin(3 * x))))).astype(float)
    binning = numeric_cuts(x, y, direction=direction, max_bins=20, min_bin_size=0.02)  # type: ignore[arg-type]
    rates = _bad_rates(x, y, binning.cuts)
    steps = np.diff(rates)
    if binning.direction == "ascending":  # more is better: the bad rate falls
        assert (steps < 0).all()
    else:
        assert (steps > 0).all()
    if direction != "auto":
        assert binning.direction == direction


def test_min_bin_size_and_max_bins_hold() -> None:
    rng = np.random.default_rng(1)
    x = rng.exponential(size=5000)
    y = (rng.random(5000) < 0.2).astype(float)
    binning = numeric_cuts(x, y, direction="none", max_bins=10, min_bin_size=0.05)
    index = np.searchsorted(np.array(binning.cuts), x, side="right")
    counts = np.bincount(index)
    assert len(counts) <= 10
    assert counts.min() >= 0.05 * len(x)


def test_strong_feature_keeps_many_bins() -> None:
    """The accuracy point: a strong monotonic feature is not coarsened to a handful of bins."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, 20_000)
    y = (rng.random(20_000) < x).astype(float)
    assert len(numeric_cuts(x, y, direction="auto").cuts) >= 15


def test_categories_rare_ones_pooled_into_other() -> None:
    values = np.array(["a"] * 50 + ["b"] * 45 + ["c"] * 3 + [None] * 2, dtype=object)
    y = np.array([1.0, 0.0] * 50)
    groups, rare = categorical_groups(values, y, min_bin_size=0.05)
    assert groups == [["a"], ["b"]]
    assert rare == ["c"]


def test_woe_signs_and_empty_bins() -> None:
    goods = np.array([90.0, 50.0, 0.0])
    bads = np.array([10.0, 50.0, 0.0])
    woe = weights_of_evidence(goods, bads, 140.0, 60.0, prior=2.0)
    assert woe[0] > 0 > woe[1]  # the safer bin has positive WoE
    assert woe[2] == 0.0  # no evidence either way
