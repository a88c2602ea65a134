"""Group metrics of a score at a cut: the figures a fairness audit reports, in plain NumPy.

Rows with ``score >= cut`` are approved. "Good" is the outcome the lender wants (not bad), so the
true-positive rate is the share of the actually good who are approved (equal opportunity) and
the false-positive rate the share of the actually bad who are approved. Each figure has the
meaning fairlearn's ``MetricFrame`` gives it with ``y_true = good`` and ``y_pred = approved``;
a test holds the two equal. NumPy rather than fairlearn here because the bootstrap needs
thousands of resamples per group and cut (decision 0900).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "GroupAtCut",
    "calibration_by_band",
    "cut_for_share",
    "groups_at_cut",
    "standardised_mean_difference",
    "within_group_auc",
]

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def cut_for_share(scores: Floats, share: Fraction) -> float:
    """The highest score such that at least ``share`` of rows score at or above it.

    ``share`` is a ``Fraction`` so that 0.7 of 10 rows is 7 rows, not the 8 that
    ``ceil(0.7 * 10)`` gives in floating point.
    """
    if not 0 < share <= 1:
        raise ValueError(f"an approve share must be above 0 and at most 1, got {float(share)}")
    wanted = math.ceil(share * len(scores))
    return float(np.sort(scores)[::-1][wanted - 1])


@dataclass(frozen=True)
class GroupAtCut:
    """One group at one cut; rates are ``None`` where the group has nobody to divide by."""

    group: str
    n: int
    approved: int
    approval_rate: float
    air: float | None
    tpr: float | None
    tpr_gap: float | None
    fpr: float | None
    goods: int
    bads: int


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def groups_at_cut(
    scores: Floats, good: Bools, groups: NDArray[np.str_], cut: float
) -> tuple[str, list[GroupAtCut]]:
    """Every group's figures at ``cut`` and the reference (most-approved) group's name.

    The reference is the group with the highest approval rate (the first in sorted order on a
    tie); the adverse impact ratio is each group's rate over the reference's, and the TPR gap
    each group's TPR minus the reference's.
    """
    approved = scores >= cut
    names = np.unique(groups).tolist()
    counts = []
    for name in names:
        inside = groups == name
        n_good = int((inside & good).sum())
        n_bad = int(inside.sum()) - n_good
        counts.append(
            (
                int(inside.sum()),
                int((inside & approved).sum()),
                n_good,
                int((inside & good & approved).sum()),
                n_bad,
                int((inside & ~good & approved).sum()),
            )
        )
    rates = [a / n for n, a, *_ in counts]
    ref = int(np.argmax(rates))
    ref_tpr = _rate(counts[ref][3], counts[ref][2])
    out = []
    for name, (n, a, n_good, tp, n_bad, fp), rate in zip(names, counts, rates, strict=True):
        tpr = _rate(tp, n_good)
        out.append(
            GroupAtCut(
                group=name,
                n=n,
                approved=a,
                approval_rate=rate,
                air=rate / rates[ref] if rates[ref] else None,
                tpr=tpr,
                tpr_gap=None if tpr is None or ref_tpr is None else tpr - ref_tpr,
                fpr=_rate(fp, n_bad),
                goods=n_good,
                bads=n_bad,
            )
        )
    return names[ref], out


def within_group_auc(scores: Floats, good: Bools) -> float | None:
    """AUC of the score at ranking the good above the bad; ``None`` with one class only.

    The Mann-Whitney form with tied scores at their average rank, which is what scikit-learn's
    ``roc_auc_score`` computes (held equal in tests): importing scikit-learn would cost the
    audit of a month seconds (decision 0909)."""
    if good.all() or not good.any():
        return None
    _, where, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0  # 1-based mean rank of each distinct score
    n_good = int(good.sum())
    n_bad = len(good) - n_good
    rank_sum = float(average_rank[where.reshape(-1)][good].sum())
    return (rank_sum - n_good * (n_good + 1) / 2.0) / (n_good * n_bad)


def standardised_mean_difference(scores: Floats, inside: Bools) -> float | None:
    """Cohen's d of a group's scores against everyone else's (pooled standard deviation)."""
    a, b = scores[inside], scores[~inside]
    if len(a) < 2 or len(b) < 2:
        return None
    pooled = ((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2)
    if pooled == 0:
        return None
    return float((a.mean() - b.mean()) / math.sqrt(pooled))


def calibration_by_band(
    scores: Floats, p_bad: Floats, good: Bools, width: float
) -> list[dict[str, float]]:
    """Per score band of ``width`` points: rows, predicted and observed bad rate."""
    band = np.floor(scores / width) * width
    out = []
    for low in np.unique(band):
        inside = band == low
        out.append(
            {
                "from": float(low),
                "to": float(low + width),
                "rows": int(inside.sum()),
                "predicted_bad_rate": float(p_bad[inside].mean()),
                "observed_bad_rate": float(1.0 - good[inside].mean()),
            }
        )
    return out
