"""How well a trained scorecard ranks and predicts: AUC, Gini, KS and calibration (issue 14).

Computed on the development rows (in time) and on a later observation date held out of
training (out of time), so the published table says how it did on persons it never saw. The
summary is written beside the model file (docs/decisions/0536).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["fit_summary"]


def _auc(bad: NDArray[np.int64], pd: NDArray[np.float64]) -> float:
    """Probability that a random bad has a higher predicted PD than a random good (ties 1/2)."""
    order = np.argsort(pd, kind="stable")
    ranks = np.empty(len(pd), np.float64)
    sorted_pd = pd[order]
    # Average ranks over ties, so equal scores count half.
    _, first, counts = np.unique(sorted_pd, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    bads = int(bad.sum())
    goods = len(bad) - bads
    return float((ranks[bad == 1].sum() - bads * (bads + 1) / 2.0) / (bads * goods))


def _ks(bad: NDArray[np.int64], pd: NDArray[np.float64]) -> float:
    """The largest gap between the cumulative shares of bads and goods along the PD order."""
    order = np.argsort(-pd, kind="stable")
    ordered = bad[order]
    cum_bad = np.cumsum(ordered) / max(1, int(ordered.sum()))
    cum_good = np.cumsum(1 - ordered) / max(1, int((1 - ordered).sum()))
    return float(np.max(np.abs(cum_bad - cum_good)))


def fit_summary(bad: NDArray[np.int64], pd: NDArray[np.float64]) -> dict[str, Any]:
    """Rows, bads, AUC, Gini, KS and calibration (mean predicted PD against the bad rate)."""
    bads = int(bad.sum())
    if bads == 0 or bads == len(bad):
        return {"rows": len(bad), "bads": bads}
    auc = _auc(bad, pd)
    return {
        "rows": len(bad),
        "bads": bads,
        "auc": round(auc, 4),
        "gini": round(2 * auc - 1, 4),
        "ks": round(_ks(bad, pd), 4),
        "bad_rate": round(bads / len(bad), 5),
        "mean_predicted_pd": round(float(pd.mean()), 5),
    }
