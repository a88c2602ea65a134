"""Binning and weights of evidence: the step where scorecards usually lose information.

Peer scorecards trail plain logistic regression mostly because they coarsen bins and drop
variables. Credo's binning keeps many quantile bins (``max_bins``), merges only what the minimum
bin size or a declared monotonic direction requires, never drops a feature that varies, and
shrinks each bin's weight of evidence towards zero (a Beta prior of ``woe_prior`` rows) instead
of merging small bins away. See docs/decisions/0101-scorecard-binning.md.

Conventions: ``y`` is 1 for bad, 0 for good. WoE is ``ln(good share / bad share)``: positive for
safer bins. A direction says how points move with the feature: ``ascending`` means a higher value
earns more points (a lower bad rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from itertools import pairwise
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Direction",
    "NumericBinning",
    "categorical_groups",
    "numeric_cuts",
    "weights_of_evidence",
]

Direction = Literal["ascending", "descending", "auto", "none"]


@dataclass(frozen=True)
class NumericBinning:
    """Cut points (bin ``j`` holds ``cuts[j-1] <= x < cuts[j]``) and the direction they obey."""

    cuts: tuple[float, ...]
    direction: Literal["ascending", "descending", "none"]


def nice_cut(low: float, high: float) -> float:
    """The shortest decimal ``c`` with ``low < c <= high``: tables read "age < 25", not 24.5."""
    dl, dh = Decimal(repr(low)), Decimal(repr(high))
    for places in range(-20, 21):
        step = Decimal(1).scaleb(-places)
        candidate = (dl / step).to_integral_value(rounding=ROUND_FLOOR) * step + step
        if candidate <= dh:
            value = float(candidate)
            if low < value <= high:
                return value
    return high


def _pava(counts: NDArray[np.float64], bads: NDArray[np.float64], decreasing: bool) -> list[int]:
    """Pool adjacent violators: block start indexes whose bad rates move one way only.

    Ties are pooled too: two neighbouring bins with the same bad rate carry no extra information.
    """
    blocks: list[list[float]] = []  # [start, count, bad]
    for i, (n, b) in enumerate(zip(counts, bads, strict=True)):
        blocks.append([float(i), float(n), float(b)])
        while len(blocks) > 1:
            prev, last = blocks[-2], blocks[-1]
            prev_rate, last_rate = prev[2] / prev[1], last[2] / last[1]
            violates = last_rate >= prev_rate if decreasing else last_rate <= prev_rate
            if not violates:
                break
            prev[1] += last[1]
            prev[2] += last[2]
            blocks.pop()
    return [int(block[0]) for block in blocks]


def _sse(counts: NDArray[np.float64], bads: NDArray[np.float64], starts: list[int]) -> float:
    """Weighted squared error of bin bad rates around their pooled blocks (lower fits better)."""
    bounds = [*starts, len(counts)]
    total = 0.0
    for lo, hi in pairwise(bounds):
        n, b = counts[lo:hi], bads[lo:hi]
        pooled = b.sum() / n.sum()
        total += float(np.sum(n * (b / n - pooled) ** 2))
    return total


def _merge_small(
    counts: NDArray[np.float64], bads: NDArray[np.float64], starts: list[int], min_count: float
) -> list[int]:
    """Merge bins under ``min_count`` rows into the neighbour with the closer bad rate."""
    starts = list(starts)
    while len(starts) > 1:
        bounds = [*starts, len(counts)]
        sizes = [counts[lo:hi].sum() for lo, hi in pairwise(bounds)]
        smallest = int(np.argmin(sizes))
        if sizes[smallest] >= min_count:
            break
        rates = [bads[lo:hi].sum() / max(counts[lo:hi].sum(), 1.0) for lo, hi in pairwise(bounds)]
        if smallest == 0:
            drop = 1
        elif smallest == len(starts) - 1:
            drop = smallest
        else:
            left = abs(rates[smallest] - rates[smallest - 1])
            right = abs(rates[smallest] - rates[smallest + 1])
            drop = smallest if left <= right else smallest + 1
        del starts[drop]
    return starts


def numeric_cuts(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    direction: Direction = "auto",
    max_bins: int = 20,
    min_bin_size: float = 0.02,
) -> NumericBinning:
    """Quantile pre-bins, small bins merged, then pooled until monotonic in ``direction``.

    ``auto`` tries both directions and keeps the one whose monotonic fit is closer to the
    pre-bins' bad rates. Missing values (NaN) are ignored here: they get their own bin.
    """
    present = ~np.isnan(x)
    xs, ys = x[present], y[present]
    values, inverse = np.unique(xs, return_inverse=True)
    resolved: Literal["ascending", "descending", "none"] = (
        "none" if direction == "none" else "ascending" if direction == "auto" else direction
    )
    if len(values) < 2:
        return NumericBinning((), resolved)
    counts = np.bincount(inverse).astype(np.float64)
    bads = np.bincount(inverse, weights=ys).astype(np.float64)
    if len(values) <= max_bins:
        starts = list(range(len(values)))
    else:
        cumulative = np.cumsum(counts) / counts.sum()
        targets = np.arange(1, max_bins) / max_bins
        ends = np.searchsorted(cumulative, targets - 1e-12, side="left")
        starts = sorted({0, *(int(e) + 1 for e in ends if e + 1 < len(values))})
    starts = _merge_small(counts, bads, starts, min_bin_size * len(xs))
    # Pool the pre-bins, then index back into unique values.
    bounds = [*starts, len(values)]
    bin_counts = np.array([counts[lo:hi].sum() for lo, hi in pairwise(bounds)])
    bin_bads = np.array([bads[lo:hi].sum() for lo, hi in pairwise(bounds)])
    if direction != "none" and len(starts) > 1:
        candidates = {
            name: _pava(bin_counts, bin_bads, decreasing=(name == "ascending"))
            for name in (("ascending", "descending") if direction == "auto" else (direction,))
        }
        best = min(candidates, key=lambda name: _sse(bin_counts, bin_bads, candidates[name]))
        resolved = "ascending" if best == "ascending" else "descending"
        starts = [starts[b] for b in candidates[best]]
    cuts = tuple(nice_cut(float(values[s - 1]), float(values[s])) for s in starts[1:])
    return NumericBinning(cuts, resolved)


def categorical_groups(
    values: NDArray[np.object_],
    y: NDArray[np.float64],
    *,
    max_bins: int = 20,
    min_bin_size: float = 0.02,
) -> tuple[list[list[str]], list[str]]:
    """Groups of categories (one bin each) and the rare categories pooled into "other".

    Every category with at least ``min_bin_size`` of the rows keeps its own bin; beyond
    ``max_bins`` the groups closest in bad rate are merged. Rare categories and categories
    unseen in training share the "other" bin.
    """
    present = np.array([v is not None for v in values], dtype=bool)
    cats, inverse = np.unique(values[present].astype(str), return_inverse=True)
    if len(cats) == 0:
        return [], []
    counts = np.bincount(inverse).astype(np.float64)
    bads = np.bincount(inverse, weights=y[present]).astype(np.float64)
    frequent = counts >= min_bin_size * present.sum()
    rare = [str(c) for c in cats[~frequent]]
    order = sorted(np.flatnonzero(frequent), key=lambda i: (bads[i] / counts[i], str(cats[i])))
    groups: list[list[int]] = [[int(i)] for i in order]
    while len(groups) > max_bins:
        rates = [bads[g].sum() / counts[g].sum() for g in groups]
        gaps = [rates[i + 1] - rates[i] for i in range(len(groups) - 1)]
        i = int(np.argmin(gaps))
        groups[i : i + 2] = [groups[i] + groups[i + 1]]
    named = [sorted(str(cats[i]) for i in g) for g in groups]
    return sorted(named), sorted(rare)


def weights_of_evidence(
    goods: NDArray[np.float64],
    bads: NDArray[np.float64],
    total_good: float,
    total_bad: float,
    prior: float,
) -> NDArray[np.float64]:
    """``ln(good share / bad share)`` per bin, each bin shrunk by ``prior`` rows of the average.

    An empty bin (e.g. no missing values in training) gets exactly 0: no evidence either way.
    """
    total = total_good + total_bad
    good = goods + prior * total_good / total
    bad = bads + prior * total_bad / total
    with np.errstate(divide="ignore", invalid="ignore"):
        woe = np.log(good / bad) - np.log(total_good / total_bad)
    return np.where(goods + bads > 0, woe, 0.0)


def information_value(
    goods: NDArray[np.float64],
    bads: NDArray[np.float64],
    woe: NDArray[np.float64],
) -> float:
    """Information value of a binned feature: sum of (good share - bad share) x WoE."""
    return float(np.sum((goods / goods.sum() - bads / bads.sum()) * woe))
