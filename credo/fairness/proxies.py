# mypy: disable-error-code="import-untyped"
"""Proxies and less discriminatory alternatives: which features carry a protected attribute.

For each feature of the card: how strongly its bins predict each protected attribute (Cramér's V,
and the one-vs-rest AUC of the bin's group share), and what happens to the lowest adverse impact
ratio and the AUC when the card is refit without it. The search for a less discriminatory
alternative is greedy backward elimination: drop the feature whose removal raises the lowest
ratio most while the AUC stays within ``max_auc_loss`` of the baseline, and repeat (decision
0901). Every variant, the baseline included, is refit with the card's own settings on the
audited table, so they compare like with like (their AUC is in-sample for all alike).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.fairness.audit import cut_scores
from credo.fairness.inputs import CutSpec
from credo.fairness.metrics import groups_at_cut, within_group_auc
from credo.models._errors import ConstantFeatureWarning
from credo.models._frame import column_of
from credo.models.table import ScorecardModel

__all__ = ["Proxies", "cramers_v", "proxy_report"]


def cramers_v(a: NDArray[np.intp], b: NDArray[np.intp]) -> float:
    """Association of two codings of the same rows, 0 (none) to 1 (one determines the other)."""
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1.0)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if min(table.shape) < 2:
        return 0.0
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def _proxy_auc(bins: NDArray[np.intp], codes: NDArray[np.intp]) -> float:
    """The best one-vs-rest AUC of predicting a group from the share of it in the row's bin."""
    best = 0.5
    for group in np.unique(codes):
        member = codes == group
        if member.all():
            continue
        share = np.bincount(bins, weights=member) / np.maximum(np.bincount(bins), 1)
        # Mann-Whitney with ties at their average rank: roc_auc_score's value, without its
        # per-call checks (most of the cost at a release's few thousand rows).
        best = max(best, within_group_auc(share[bins], member) or 0.5)
    return best


@dataclass
class Variant:
    dropped: list[str]
    auc: float | None
    worst_air: list[float | None]


@dataclass
class Proxies:
    strength: list[dict[str, Any]]
    baseline: Variant
    drop_one: list[Variant]
    alternatives: list[Variant]
    max_auc_loss: float
    cuts: list[str]

    def to_dict(self) -> dict[str, Any]:
        def variant(v: Variant) -> dict[str, Any]:
            return {"dropped": v.dropped, "auc": v.auc, "worst_air": v.worst_air}

        return {
            "strength": self.strength,
            "baseline": variant(self.baseline),
            "drop_one": [variant(v) for v in self.drop_one],
            "alternatives": [variant(v) for v in self.alternatives],
            "max_auc_loss": self.max_auc_loss,
            "cuts": self.cuts,
        }

    def to_html(self) -> str:
        def cells(v: Variant) -> str:
            airs = "".join(f"<td>{'–' if a is None else f'{a:.3f}'}</td>" for a in v.worst_air)
            auc = "–" if v.auc is None else f"{v.auc:.4f}"
            return f"<td>{escape(', '.join(v.dropped) or '(none)')}</td><td>{auc}</td>{airs}"

        head = "<tr><th>without</th><th>AUC</th>" + "".join(
            f"<th>lowest AIR, {escape(c)}</th>" for c in self.cuts
        )
        variants = "".join(f"<tr>{cells(v)}</tr>" for v in [self.baseline, *self.drop_one])
        found = "".join(f"<tr>{cells(v)}</tr>" for v in self.alternatives)
        strength = "".join(
            f"<tr><td>{escape(s['feature'])}</td><td>{escape(s['attribute'])}</td>"
            f"<td>{s['cramers_v']:.3f}</td><td>{s['auc']:.3f}</td></tr>"
            for s in self.strength
        )
        return (
            "<h2>Proxies</h2><table><tr><th>feature</th><th>attribute</th><th>Cramér's V</th>"
            f"<th>AUC</th></tr>{strength}</table>"
            f"<h2>Refit without each feature</h2><table>{head}</tr>{variants}</table>"
            f"<h2>Less discriminatory alternatives (AUC loss at most {self.max_auc_loss:g})</h2>"
            f"<table>{head}</tr>{found or '<tr><td>none found</td></tr>'}</table>"
        )


def _refit(model: ScorecardModel, data: object, y: NDArray[np.int64], keep: list[str]) -> Any:
    from credo.models.estimator import Scorecard  # seconds to import: only this path needs it

    specs = [s for s in model.table.features if s.name in keep]
    scaling = model.table.scaling
    estimator = Scorecard(
        dimensions={s.name: s.dimension for s in specs},
        descriptions={s.name: s.description for s in specs},
        directions={s.name: s.direction for s in specs if s.direction is not None},
        categorical_features=[s.name for s in specs if s.kind == "categorical"],
        base_points=scaling.base_points,
        base_odds=scaling.base_odds,
        pdo=scaling.pdo,
        min_score=scaling.min_score,
        max_score=scaling.max_score,
        points_decimals=scaling.points_decimals,
    )
    with warnings.catch_warnings():
        # A feature constant on the audited rows is left out, as training would; not news here.
        warnings.simplefilter("ignore", ConstantFeatureWarning)
        estimator.fit({name: column_of(data, name) for name in keep}, y)
    return estimator.model_


def _logistic(x: NDArray[np.float64], y: NDArray[np.int64], l2: float = 1.0) -> NDArray[np.float64]:
    """The fitted log-odds of ``y`` on ``x`` and an intercept, L2-penalised like
    scikit-learn's default (``C=1``, the intercept free), by Newton's method: a few small
    solves, and no import of scikit-learn at a monthly run."""
    design = np.column_stack([np.ones(len(x)), x])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -30, 30)))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design.T * (p * (1 - p))) @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return np.asarray(design @ w, np.float64)


def _on_bins(
    model: ScorecardModel, bins: dict[str, NDArray[np.intp]], y: NDArray[np.int64], keep: list[str]
) -> NDArray[np.float64]:
    """Scores of the card refit on its own bins: each kept feature's weight of evidence on
    these rows, a logistic regression over them, put on the card's scale. Milliseconds where a
    full refit (binning included) takes seconds: what a search run at every release can pay."""
    columns = []
    for name in keep:
        b = bins[name]
        size = int(b.max()) + 1
        bad = np.bincount(b, weights=y, minlength=size) + 0.5
        good = np.bincount(b, weights=1 - y, minlength=size) + 0.5
        columns.append(np.log((good / good.sum()) / (bad / bad.sum()))[b])
    logit_bad = _logistic(np.column_stack(columns), y)
    scaling = model.table.scaling
    factor = scaling.pdo / np.log(2)
    offset = scaling.base_points - factor * np.log(scaling.base_odds)
    return np.asarray(
        np.clip(offset - factor * logit_bad, scaling.min_score, scaling.max_score), np.float64
    )


def _variant(
    model: ScorecardModel,
    data: object,
    y: NDArray[np.int64],
    protected: dict[str, NDArray[np.str_]],
    cuts: list[CutSpec],
    dropped: list[str],
    bins: dict[str, NDArray[np.intp]] | None = None,
) -> Variant:
    keep = [f for f in model.features if f not in dropped]
    if bins is not None:
        scores = _on_bins(model, bins, y, keep)
    else:
        scores = _refit(model, data, y, keep).score(data)
    good = y == 0
    worst: list[float | None] = []
    for cut in cut_scores(scores, cuts):
        airs = [
            row.air
            for groups in protected.values()
            for row in groups_at_cut(scores, good, groups, cut)[1]
            if row.air is not None
        ]
        worst.append(min(airs) if airs else None)
    return Variant(dropped, within_group_auc(scores, good), worst)


def _lowest(v: Variant) -> float:
    return min((a for a in v.worst_air if a is not None), default=0.0)


def _search(
    fit: Any, baseline: Variant, drop_one: list[Variant], features: list[str], max_loss: float
) -> list[Variant]:
    """Greedy backward elimination within the AUC budget; every improving step is reported."""
    floor = (baseline.auc or 0.0) - max_loss
    found: list[Variant] = []
    current, candidates = baseline, drop_one
    while True:
        allowed = [v for v in candidates if (v.auc or 0.0) >= floor]
        best = max(allowed, key=_lowest, default=None)
        if best is None or _lowest(best) <= _lowest(current):
            return found
        found.append(best)
        current = best
        rest = [f for f in features if f not in best.dropped]
        if len(rest) < 2:
            return found
        candidates = [fit([*best.dropped, f]) for f in rest]


def proxy_report(
    model: ScorecardModel,
    data: object,
    y_bad: NDArray[np.int64],
    protected: dict[str, NDArray[np.str_]],
    cuts: list[CutSpec],
    *,
    max_auc_loss: float = 0.01,
    keep_bins: bool = False,
) -> Proxies:
    """Proxy strength per feature and attribute, drop-one refits, and the alternatives found.
    ``keep_bins``: refit on the card's own bins (:func:`_on_bins`) rather than refitting the
    card from scratch, binning included."""
    y = np.asarray(y_bad, dtype=np.int64)
    strength: list[dict[str, Any]] = []
    indexes = model.bin_indexes(data)
    for feature, bins in indexes.items():
        for attribute, groups in protected.items():
            codes = np.unique(groups, return_inverse=True)[1].astype(np.intp)
            strength.append(
                {
                    "feature": feature,
                    "attribute": attribute,
                    "cramers_v": cramers_v(bins, codes),
                    "auc": _proxy_auc(bins, codes),
                }
            )
    strength.sort(key=lambda s: -float(s["cramers_v"]))

    def fit(dropped: list[str]) -> Variant:
        return _variant(model, data, y, protected, cuts, dropped, indexes if keep_bins else None)

    baseline = fit([])
    drop_one = [fit([f]) for f in model.features] if len(model.features) > 1 else []
    alternatives = _search(fit, baseline, drop_one, model.features, max_auc_loss)
    return Proxies(
        strength, baseline, drop_one, alternatives, max_auc_loss, [c.label for c in cuts]
    )
