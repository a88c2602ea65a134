"""What the lab reports per month: band shares, Gini, mobility, segregation, wrongful days."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.lab.policy import BANDS

__all__ = ["band_of", "gini", "measure", "score_assortativity"]

_LOWS = np.array([low for low, _ in BANDS[1:]], dtype=np.float64)


def band_of(score: NDArray[np.float64]) -> NDArray[np.intp]:
    """Index into :data:`BANDS` of each score."""
    return np.searchsorted(_LOWS, score, side="right").astype(np.intp)


def gini(values: NDArray[np.float64]) -> float:
    """Gini coefficient of non-negative values: 0 all equal, towards 1 all held by one."""
    ordered = np.sort(values)
    n = len(ordered)
    total = ordered.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return float(2.0 * np.sum(ranks * ordered) / (n * total) - (n + 1) / n)


def score_assortativity(
    score: NDArray[np.float64], contacts: NDArray[np.intp], who: NDArray[np.bool_] | None = None
) -> float:
    """Correlation of a person's score with each contact's, over the contacts of ``who``
    (everyone by default): 0 mixed, towards 1 segregated by score."""
    rows = np.arange(len(score)) if who is None else np.flatnonzero(who)
    mine = np.repeat(score[rows], contacts.shape[1])
    theirs = score[contacts[rows]].ravel()
    if len(mine) < 2 or mine.std() == 0 or theirs.std() == 0:
        return 0.0
    return float(np.corrcoef(mine, theirs)[0, 1])


def _figures(
    before: NDArray[np.intp],
    after: NDArray[np.intp],
    score: NDArray[np.float64],
    days: NDArray[np.int64],
) -> dict[str, Any]:
    k = len(BANDS)
    counts = np.bincount(after, minlength=k)
    moves = np.bincount(before * k + after, minlength=k * k).reshape(k, k).astype(np.float64)
    rows = moves.sum(axis=1, keepdims=True)
    transition = np.divide(moves, rows, out=np.zeros_like(moves), where=rows > 0)
    return {
        "people": len(score),
        "mean_score": float(score.mean()),
        "band_shares": [float(c) for c in counts / max(len(score), 1)],
        "gini": gini(score),
        "transition": [[float(v) for v in row] for row in transition],
        "wrongful_restriction_days": int(days.sum()),
    }


def measure(
    before: NDArray[np.float64],
    score: NDArray[np.float64],
    contacts: NDArray[np.intp],
    days: NDArray[np.int64],
    group: NDArray[np.intp],
    names: list[str],
) -> dict[str, Any]:
    """One month's figures overall and per group (segregation: the group's own edges)."""
    bands_before, bands_after = band_of(before), band_of(score)
    overall = _figures(bands_before, bands_after, score, days)
    overall["segregation"] = score_assortativity(score, contacts)
    by_group = {}
    for g, name in enumerate(names):
        inside = group == g
        figures = _figures(bands_before[inside], bands_after[inside], score[inside], days[inside])
        figures["segregation"] = score_assortativity(score, contacts, inside)
        figures["contacts_in_group"] = float((group[contacts[inside]] == g).mean())
        by_group[name] = figures
    return {"overall": overall, "by_group": by_group}
