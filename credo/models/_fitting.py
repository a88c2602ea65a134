# mypy: disable-error-code="import-untyped"
"""The steps of ``Scorecard.fit`` that need no estimator state, only the values passed.

Each feature's dimension (``dimension_map``); a feature's bins as rows of the points table
(``numeric_bins``, ``categorical_bins``); the weights of evidence of every bin
(``weigh_evidence``); the cross-validated L2 logistic regression, which leaves out features
weighted against their own evidence (``regress``); one feature's points (``feature_points``).
The estimator (:mod:`credo.models.estimator`) checks its inputs, chooses the cuts (a subclass
may plug in another binner) and chains these steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from credo.models._errors import FitError
from credo.models._frame import FeatureKind
from credo.models.binning import information_value, weights_of_evidence
from credo.models.document import DroppedFeature, FeatureSpec, PointsRow

__all__ = [
    "Binned",
    "categorical_bins",
    "dimension_map",
    "feature_points",
    "fit_logistic",
    "joint_points",
    "numeric_bins",
    "pooled_bins",
    "regress",
    "weigh_evidence",
]


class Binned:
    """One feature's bins during fitting: index per training row, rows for the table."""

    def __init__(
        self,
        name: str,
        kind: FeatureKind,
        index: NDArray[np.intp],
        n_bins: int,
        rows: list[dict[str, Any]],
        direction: str | None,
    ) -> None:
        self.name, self.kind, self.index, self.n_bins = name, kind, index, n_bins
        self.rows, self.direction = rows, direction


def dimension_map(names: list[str], given: dict[str, str], default: str | None) -> dict[str, str]:
    """Each feature's dimension: from ``given``, else ``default``; a feature left without one,
    or a map naming features not in the data, is an error."""
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise FitError(
            f"the dimension map names features not in the data: {unknown}",
            hint="remove them from the map or fix the column names",
        )
    missing = [n for n in names if n not in given]
    if missing and default is None:
        raise FitError(
            f"{len(missing)} feature(s) have no dimension: {missing[:10]}",
            hint="add them to the dimension map, or pass default_dimension explicitly",
        )
    for name, dim in given.items():
        if not isinstance(dim, str) or not dim:
            raise FitError(f"dimension for feature {name!r} must be a non-empty name")
    return {n: given.get(n, default or "") for n in names}


def numeric_bins(
    name: str,
    x: NDArray[np.float64],
    missing: NDArray[np.bool_],
    cuts: Sequence[float],
    direction: str | None,
) -> Binned:
    """Intervals between ``cuts``, then one bin for the missing values."""
    index = np.searchsorted(np.array(cuts, dtype=float), x, side="right")
    index[missing] = len(cuts) + 1
    rows = _interval_rows([None, *cuts, None])
    rows.append(_missing_row(len(cuts) + 1))
    return Binned(name, "numeric", index, len(rows), rows, direction)


def categorical_bins(
    name: str, values: NDArray[np.object_], groups: list[list[str]], rare: list[str]
) -> Binned:
    """One bin per group of categories, one for any other value, one for the missing."""
    lookup = {c: i for i, group in enumerate(groups) for c in group}
    other = len(groups)
    index = np.array(
        [other + 1 if v is None else lookup.get(v, other) for v in values], dtype=np.intp
    )
    rows = [
        {
            "bin": i,
            "kind": "categories",
            "categories": group,
            "description": "one of " + ", ".join(group) if len(group) > 1 else group[0],
        }
        for i, group in enumerate(groups)
    ]
    rows.append(
        {
            "bin": other,
            "kind": "other",
            "description": "another value" + (f" ({', '.join(rare[:5])}...)" if rare else ""),
        }
    )
    rows.append(_missing_row(other + 1))
    return Binned(name, "categorical", index, len(rows), rows, None)


def weigh_evidence(
    binned: list[Binned], target: NDArray[np.float64], prior: float
) -> list[NDArray[np.float64]]:
    """Each feature's weight of evidence per bin; the counts are written into its rows."""
    total_bad = float(target.sum())
    total_good = float(len(target) - total_bad)
    woe_per_feature: list[NDArray[np.float64]] = []
    for feature in binned:
        counts = np.bincount(feature.index, minlength=feature.n_bins).astype(np.float64)
        bads = np.bincount(feature.index, weights=target, minlength=feature.n_bins).astype(
            np.float64
        )
        woe = weights_of_evidence(counts - bads, bads, total_good, total_bad, prior)
        woe_per_feature.append(woe)
        for row, n, b, w in zip(feature.rows, counts, bads, woe, strict=True):
            row.update(count=int(n), bad_count=int(b), woe=float(w))
    return woe_per_feature


def regress(
    binned: list[Binned],
    woe_per_feature: list[NDArray[np.float64]],
    target: NDArray[np.float64],
    dropped: list[DroppedFeature],
    grid: list[float],
    cv: int,
    random_state: int,
) -> tuple[NDArray[np.float64], float, float]:
    """Coefficients, intercept and chosen strength ``C`` for the WoE-encoded features.

    A feature whose weight comes out against its own evidence (collinear with others) would
    give a bin with better odds fewer points: a published table must never read that way, so
    such features leave ``binned`` (into ``dropped``), one at a time, and the rest is refitted.
    """
    encoded = np.column_stack(
        [woe[f.index] for f, woe in zip(binned, woe_per_feature, strict=True)]
    )
    coef, intercept, c = fit_logistic(encoded, target, grid, cv, random_state)
    while len(binned) > 1 and float(coef.max()) > 0:
        worst = int(np.argmax(coef))
        dropped.append(
            DroppedFeature(
                name=binned[worst].name,
                reason="its weight came out against its own evidence (collinear with "
                "other features), so its points would contradict its bins",
            )
        )
        del binned[worst], woe_per_feature[worst]
        encoded = np.delete(encoded, worst, axis=1)
        coef, intercept, c = fit_logistic(encoded, target, grid, cv, random_state)
    return coef, intercept, c


def fit_logistic(
    encoded: NDArray[np.float64],
    target: NDArray[np.float64],
    grid: list[float],
    cv: int,
    random_state: int,
) -> tuple[NDArray[np.float64], float, float]:
    """L2 logistic regression, its strength chosen from ``grid`` by stratified k-fold log loss.

    BLAS runs single-threaded here: the problems are small (one column per feature), and
    OpenBLAS's spinning threads made each fit 5-10x slower on a busy 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        best_c = _best_strength(encoded, target, grid, cv, random_state)
        model = LogisticRegression(C=best_c, max_iter=1000).fit(encoded, target)
        return model.coef_[0].astype(np.float64), float(model.intercept_[0]), float(best_c)


def _best_strength(
    encoded: NDArray[np.float64],
    target: NDArray[np.float64],
    grid: list[float],
    cv: int,
    random_state: int,
) -> float:
    """The ``C`` of ``grid`` with the least log loss summed over the folds (the middle one when
    there are too few rows of a class to fold)."""
    smallest_class = int(min(target.sum(), len(target) - target.sum()))
    n_splits = min(cv, smallest_class)
    if n_splits < 2 or len(grid) <= 1:
        return grid[len(grid) // 2]
    folds = list(
        StratifiedKFold(n_splits, shuffle=True, random_state=random_state).split(encoded, target)
    )
    losses = []
    for c in grid:
        loss = 0.0
        for train, test in folds:
            model = LogisticRegression(C=c, max_iter=1000).fit(encoded[train], target[train])
            p = np.clip(model.predict_proba(encoded[test])[:, 1], 1e-12, 1 - 1e-12)
            t = target[test]
            loss -= float(np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)))
        losses.append(loss)
    return grid[int(np.argmin(losses))]


def feature_points(
    feature: Binned,
    beta: float,
    woe: NDArray[np.float64],
    dimension: str,
    description: str,
    factor: float,
) -> tuple[FeatureSpec, list[PointsRow]]:
    """A feature's entry in the table and its rows, each bin's points ``-factor * beta * woe``."""
    goods = np.array([r["count"] - r["bad_count"] for r in feature.rows], np.float64)
    bads = np.array([r["bad_count"] for r in feature.rows], np.float64)
    spec = FeatureSpec(
        name=feature.name,
        kind=feature.kind,
        dimension=dimension,
        description=description,
        direction=feature.direction,  # type: ignore[arg-type]
        coefficient=round(float(beta), 6),
        information_value=round(information_value(goods, bads, woe), 6),
    )
    rows = [
        PointsRow(
            **{**row, "woe": round(row["woe"], 6)},
            feature=feature.name,
            dimension=dimension,
            points=-factor * float(beta) * row["woe"],
        )
        for row in feature.rows
    ]
    return spec, rows


def pooled_bins(
    binned: list[Binned],
    mappings: list[NDArray[np.intp]],
    effects: list[NDArray[np.float64]],
    monotone: list[tuple[int, int] | None],
    declared: dict[str, str],
) -> tuple[list[Binned], list[NDArray[np.float64]]]:
    """After the joint fit: interval bins it pooled (``mappings``: old bin -> new bin) become
    one bin, and each numeric feature records the direction its points follow."""
    out: list[Binned] = []
    for feature, mapping, mono in zip(binned, mappings, monotone, strict=True):
        if feature.kind != "numeric":
            out.append(feature)
            continue
        wanted = declared.get(feature.name, "auto")
        if mono is None:
            direction = "none" if wanted == "none" else "ascending" if wanted == "auto" else wanted
            out.append(
                Binned(
                    feature.name, "numeric", feature.index, feature.n_bins, feature.rows, direction
                )
            )
            continue
        ordered, sign = mono
        firsts = [i for i in range(ordered) if i == 0 or mapping[i] != mapping[i - 1]]
        rows = _interval_rows([None, *(feature.rows[i]["lower"] for i in firsts[1:]), None])
        rows.append(_missing_row(len(firsts)))
        index = mapping[feature.index].astype(np.intp)
        direction = "ascending" if sign < 0 else "descending"
        out.append(Binned(feature.name, "numeric", index, len(rows), rows, direction))
    return out, effects


def joint_points(
    feature: Binned,
    effect: NDArray[np.float64],
    woe: NDArray[np.float64],
    dimension: str,
    description: str,
    factor: float,
) -> tuple[FeatureSpec, list[PointsRow]]:
    """A feature's entry and rows from the joint fit: each bin's points ``-factor * effect``.

    ``coefficient`` is the count-weighted slope of the bins' effects on their weights of
    evidence: how strongly the joint fit reads the feature's own evidence (negative as in the
    WoE fit; near zero where the feature adds little beside the others)."""
    counts = np.array([r["count"] for r in feature.rows], np.float64)
    bads = np.array([r["bad_count"] for r in feature.rows], np.float64)
    spread = float(np.sum(counts * woe * woe))
    slope = float(np.sum(counts * woe * effect)) / spread if spread > 0 else 0.0
    spec = FeatureSpec(
        name=feature.name,
        kind=feature.kind,
        dimension=dimension,
        description=description,
        direction=feature.direction,  # type: ignore[arg-type]
        coefficient=round(slope, 6),
        information_value=round(information_value(counts - bads, bads, woe), 6),
    )
    rows = [
        PointsRow(
            **{**row, "woe": round(row["woe"], 6)},
            feature=feature.name,
            dimension=dimension,
            points=-factor * float(e),
        )
        for row, e in zip(feature.rows, effect, strict=True)
    ]
    return spec, rows


def _interval_rows(bounds: Sequence[float | None]) -> list[dict[str, Any]]:
    """One interval row between each pair of neighbouring ``bounds`` (``None``: unbounded)."""
    return [
        {
            "bin": i,
            "kind": "interval",
            "lower": bounds[i],
            "upper": bounds[i + 1],
            "description": _interval_text(bounds[i], bounds[i + 1]),
        }
        for i in range(len(bounds) - 1)
    ]


def _interval_text(lower: float | None, upper: float | None) -> str:
    if lower is None and upper is None:
        return "any value"
    if lower is None:
        return f"under {upper:g}"
    if upper is None:
        return f"{lower:g} or more"
    return f"{lower:g} to under {upper:g}"


def _missing_row(index: int) -> dict[str, Any]:
    return {"bin": index, "kind": "missing", "description": "not known"}
