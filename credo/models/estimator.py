# mypy: disable-error-code="import-untyped"
"""``Scorecard``: a scikit-learn estimator whose fitted state is a published points table.

``fit`` bins every feature (:mod:`credo.models.binning`), replaces values by weights of evidence,
fits an L2 logistic regression whose strength is chosen by cross-validation, and scales the
coefficients to points (points-to-double-odds, clipped to 350-950 by default). The result,
``model_``, is a :class:`~credo.models.table.ScorecardModel`: every prediction afterwards comes
from the rounded points in that table, so what is published is exactly what scores.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils._tags import Tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from credo.models._errors import ConstantFeatureWarning, DataError, FitError, NotFittedError
from credo.models._frame import (
    FeatureKind,
    column_of,
    infer_kind,
    is_frame,
    to_categorical,
    to_numeric,
)
from credo.models.binning import (
    categorical_groups,
    information_value,
    numeric_cuts,
    weights_of_evidence,
)
from credo.models.explanations import Explanation, explain
from credo.models.table import (
    DroppedFeature,
    FeatureSpec,
    PointsRow,
    Scaling,
    ScorecardModel,
    Training,
    build_table,
)

__all__ = ["DIMENSIONS", "Scorecard"]

#: Zhima's five dimensions; a user's dimension map may use other names.
DIMENSIONS = ("credit_history", "behaviour", "fulfilment_capacity", "identity", "connections")
_DIRECTIONS = ("ascending", "descending", "auto", "none")


class _Binned:
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


class Scorecard(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Binned, WoE-encoded, L2 logistic scorecard, scaled to points.

    Parameters are stored untouched (scikit-learn's contract); ``fit`` checks them.

    dimensions: feature -> dimension name. Every feature needs one, from this map or from
        ``default_dimension``; leaving both out is an error, never a silent "unassigned".
    descriptions: feature -> words a person reads in reasons ("months since your last late
        payment"); defaults to the feature name.
    directions: feature -> "ascending" (more is better), "descending", "auto" (monotonic, the
        direction the data shows; the default) or "none" (no monotonic constraint).
    categorical_features: features to bin as categories even if their values are numbers.
    max_bins, min_bin_size, woe_prior: binning resolution (see :mod:`credo.models.binning`).
    cv, Cs: folds and the grid of inverse L2 strengths searched by cross-validated log loss.
    base_points, base_odds, pdo: ``base_points`` at good:bad odds ``base_odds``, ``pdo`` more
        points for each doubling of the odds. min_score, max_score: the clip.
    points_decimals: points are rounded to this many decimals (0: whole points).
    bad_class: which label is "bad"; by default the larger of the two (1 in 0/1).
    """

    def __init__(
        self,
        *,
        dimensions: Mapping[str, str] | None = None,
        default_dimension: str | None = None,
        descriptions: Mapping[str, str] | None = None,
        directions: Mapping[str, str] | None = None,
        categorical_features: Sequence[str] | None = None,
        max_bins: int = 20,
        min_bin_size: float = 0.02,
        woe_prior: float = 2.0,
        cv: int = 5,
        Cs: Sequence[float] | None = None,  # scikit-learn's name for the grid
        base_points: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        min_score: float = 350.0,
        max_score: float = 950.0,
        points_decimals: int = 0,
        bad_class: Any = None,
        model_version: str = "1",
        random_state: int = 0,
    ) -> None:
        self.dimensions = dimensions
        self.default_dimension = default_dimension
        self.descriptions = descriptions
        self.directions = directions
        self.categorical_features = categorical_features
        self.max_bins = max_bins
        self.min_bin_size = min_bin_size
        self.woe_prior = woe_prior
        self.cv = cv
        self.Cs = Cs
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo
        self.min_score = min_score
        self.max_score = max_score
        self.points_decimals = points_decimals
        self.bad_class = bad_class
        self.model_version = model_version
        self.random_state = random_state

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # Missing values get their own bin; text columns are binned as categories.
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        # A scorecard models one bad/good outcome: binary targets only.
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = False
        return tags

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Scorecard:
        """Bin, encode, regress and scale; ``model_`` holds the resulting points table."""
        self._check_params()
        names, columns = self._columns(X, reset=True)
        target = self._target(y, len(columns[0]) if columns else 0)
        kinds = self._kinds(names, columns)
        dims = self._dimension_map(names)
        directions = dict(self.directions or {})
        total_bad = float(target.sum())
        total_good = float(len(target) - total_bad)

        binned: list[_Binned] = []
        dropped: list[DroppedFeature] = []
        for name, column in zip(names, columns, strict=True):
            feature = self._bin_feature(name, kinds[name], column, target, directions)
            if feature is None:
                reason = "constant in the training data"
                warnings.warn(
                    f"feature {name!r} is {reason}; it was left out of the points table",
                    ConstantFeatureWarning,
                    stacklevel=2,
                )
                dropped.append(DroppedFeature(name=name, reason=reason))
                continue
            binned.append(feature)
        if not binned:
            raise FitError("no feature varies in the training data: nothing to score on")

        woe_per_feature: list[NDArray[np.float64]] = []
        for feature in binned:
            counts = np.bincount(feature.index, minlength=feature.n_bins).astype(np.float64)
            bads = np.bincount(feature.index, weights=target, minlength=feature.n_bins).astype(
                np.float64
            )
            woe = weights_of_evidence(counts - bads, bads, total_good, total_bad, self.woe_prior)
            woe_per_feature.append(woe)
            for row, n, b, w in zip(feature.rows, counts, bads, woe, strict=True):
                row.update(count=int(n), bad_count=int(b), woe=float(w))
        encoded = np.column_stack(
            [woe[f.index] for f, woe in zip(binned, woe_per_feature, strict=True)]
        )
        coef, intercept, self.C_ = self._logistic(encoded, target)
        # A feature whose weight comes out against its own evidence (collinear with others)
        # would give a bin with better odds fewer points: a published table must never read
        # that way, so such features leave the table, one at a time, and the rest is refitted.
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
            coef, intercept, self.C_ = self._logistic(encoded, target)

        factor = self.pdo / math.log(2)
        offset = self.base_points - factor * math.log(self.base_odds)
        features: list[FeatureSpec] = []
        rows: list[PointsRow] = []
        descriptions = dict(self.descriptions or {})
        for feature, beta, woe in zip(binned, coef, woe_per_feature, strict=True):
            goods = np.array([r["count"] - r["bad_count"] for r in feature.rows], np.float64)
            bads = np.array([r["bad_count"] for r in feature.rows], np.float64)
            features.append(
                FeatureSpec(
                    name=feature.name,
                    kind=feature.kind,
                    dimension=dims[feature.name],
                    description=descriptions.get(feature.name, feature.name.replace("_", " ")),
                    direction=feature.direction,  # type: ignore[arg-type]
                    coefficient=round(float(beta), 6),
                    information_value=round(information_value(goods, bads, woe), 6),
                )
            )
            for row in feature.rows:
                rows.append(
                    PointsRow(
                        **{**row, "woe": round(row["woe"], 6)},
                        feature=feature.name,
                        dimension=dims[feature.name],
                        points=-factor * float(beta) * row["woe"],
                    )
                )
        table = build_table(
            model_version=self.model_version,
            scaling=Scaling(
                base_points=self.base_points,
                base_odds=self.base_odds,
                pdo=self.pdo,
                min_score=self.min_score,
                max_score=self.max_score,
                points_decimals=self.points_decimals,
            ),
            intercept_points=offset - factor * intercept,
            features=features,
            rows=rows,
            dropped=dropped,
            training=Training(
                rows=len(target),
                bad_rows=int(total_bad),
                target=None,
                bad_value=str(self.bad_class_),
            ),
        )
        self.model_ = ScorecardModel(table)
        return self

    def _check_params(self) -> None:
        checks = [
            (isinstance(self.max_bins, int) and self.max_bins >= 2, "max_bins must be >= 2"),
            (0 < self.min_bin_size < 0.5, "min_bin_size must be in (0, 0.5)"),
            (self.woe_prior > 0, "woe_prior must be > 0"),
            (isinstance(self.cv, int) and self.cv >= 2, "cv must be an integer >= 2"),
            (self.base_odds > 0 and self.pdo > 0, "base_odds and pdo must be > 0"),
            (self.min_score < self.max_score, "min_score must be below max_score"),
            (self.points_decimals in (0, 1, 2, 3, 4), "points_decimals must be 0 to 4"),
        ]
        for ok, message in checks:
            if not ok:
                raise FitError(f"invalid Scorecard parameter: {message}")
        for feature, direction in (self.directions or {}).items():
            if direction not in _DIRECTIONS:
                raise FitError(
                    f"direction {direction!r} for feature {feature!r} is not one of"
                    f" {', '.join(_DIRECTIONS)}"
                )

    def _columns(self, X: Any, *, reset: bool) -> tuple[list[str], list[NDArray[Any]]]:
        """Column names and 1-D columns from an array, a DataFrame or a mapping of columns."""
        if isinstance(X, Mapping):
            names = [str(k) for k in X]
            columns = [column_of(X, n) for n in names]
            if reset:
                self.n_features_in_ = len(names)
                self.feature_names_in_ = np.array(names, dtype=object)
            if len({len(c) for c in columns}) > 1:
                raise DataError("columns of the data have different lengths")
            if reset and (not columns or len(columns[0]) == 0):
                raise DataError("no data to fit on: the table has no columns or no rows")
            return names, columns
        if is_frame(X):
            validate_data(self, X, reset=reset, skip_check_array=True)
            names = [str(c) for c in X.columns]
            if reset and (not names or len(X) == 0):
                raise DataError("no data to fit on: the table has no columns or no rows")
            return names, [column_of(X, n) for n in names]
        array = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)
        if reset:
            self._position_names = [f"x{i}" for i in range(array.shape[1])]
        return list(self._position_names), [array[:, i] for i in range(array.shape[1])]

    def _target(self, y: Any, n_rows: int) -> NDArray[np.float64]:
        """1.0 for bad, 0.0 for good; ``classes_`` in scikit-learn's sorted order."""
        if y is None:
            raise FitError(
                "Scorecard requires y to be passed, but the target y is None",
                hint="pass the outcome column: 1 (or bad_class) for bad",
            )
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True)
        if len(y) != n_rows:
            raise DataError(f"the target has {len(y)} rows but the data has {n_rows}")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) == 1:
            raise FitError(
                f"the target has one class only ({self.classes_[0]!r}): a scorecard needs"
                " both good and bad outcomes",
                hint="check the target column and the value that means bad",
            )
        if len(self.classes_) > 2:
            raise FitError(
                f"Only binary classification is supported: the target has"
                f" {len(self.classes_)} classes and a scorecard needs two (bad, good)",
                hint="map the target to bad/good first",
            )
        bad = self.classes_[1] if self.bad_class is None else self.bad_class
        if bad not in list(self.classes_):
            raise FitError(
                f"bad_class {bad!r} is not a target value",
                hint=f"the target holds {', '.join(repr(c) for c in self.classes_)}",
            )
        self.bad_class_ = bad
        return np.asarray(y == bad, dtype=np.float64)

    def _kinds(self, names: list[str], columns: list[NDArray[Any]]) -> dict[str, FeatureKind]:
        forced = set(self.categorical_features or ())
        unknown = forced - set(names)
        if unknown:
            raise DataError(f"categorical_features names unknown columns: {sorted(unknown)}")
        return {
            name: "categorical" if name in forced else infer_kind(column, name)
            for name, column in zip(names, columns, strict=True)
        }

    def _dimension_map(self, names: list[str]) -> dict[str, str]:
        given = dict(self.dimensions or {})
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise FitError(
                f"the dimension map names features not in the data: {unknown}",
                hint="remove them from the map or fix the column names",
            )
        missing = [n for n in names if n not in given]
        if missing and self.default_dimension is None:
            raise FitError(
                f"{len(missing)} feature(s) have no dimension: {missing[:10]}",
                hint="add them to the dimension map, or pass default_dimension explicitly",
            )
        for name, dim in given.items():
            if not isinstance(dim, str) or not dim:
                raise FitError(f"dimension for feature {name!r} must be a non-empty name")
        return {n: given.get(n, self.default_dimension or "") for n in names}

    def _bin_feature(
        self,
        name: str,
        kind: FeatureKind,
        column: NDArray[Any],
        target: NDArray[np.float64],
        directions: dict[str, str],
    ) -> _Binned | None:
        """Bins for one feature, or None when it is constant (one value, never missing)."""
        if kind == "numeric":
            x = to_numeric(column, name)
            missing = np.isnan(x)
            if missing.all():
                raise DataError(f"column {name!r} has no values: every row is missing")
            if np.unique(x[~missing]).size == 1 and not missing.any():
                return None
            binning = self._numeric_cuts(name, x, target, directions.get(name, "auto"))
            cuts = binning.cuts
            index = np.searchsorted(np.array(cuts, dtype=float), x, side="right")
            index[missing] = len(cuts) + 1
            bounds = [None, *cuts, None]
            rows = [
                {
                    "bin": i,
                    "kind": "interval",
                    "lower": bounds[i],
                    "upper": bounds[i + 1],
                    "description": _interval_text(bounds[i], bounds[i + 1]),
                }
                for i in range(len(cuts) + 1)
            ]
            rows.append(_missing_row(len(cuts) + 1))
            return _Binned(name, kind, index, len(rows), rows, binning.direction)
        values = to_categorical(column)
        missing = np.array([v is None for v in values], dtype=bool)
        if missing.all():
            raise DataError(f"column {name!r} has no values: every row is missing")
        if len(set(values[~missing])) == 1 and not missing.any():
            return None
        groups, rare = self._categorical_groups(name, values, target)
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
        return _Binned(name, kind, index, len(rows), rows, None)

    def _numeric_cuts(
        self, name: str, x: NDArray[np.float64], y: NDArray[np.float64], direction: str
    ) -> Any:
        """Cut points for one numeric feature; a subclass may plug in another binner."""
        return numeric_cuts(
            x,
            y,
            direction=direction,  # type: ignore[arg-type]
            max_bins=self.max_bins,
            min_bin_size=self.min_bin_size,
        )

    def _categorical_groups(
        self, name: str, values: NDArray[np.object_], y: NDArray[np.float64]
    ) -> tuple[list[list[str]], list[str]]:
        """Category groups and rare categories for one feature; a subclass may override."""
        return categorical_groups(values, y, max_bins=self.max_bins, min_bin_size=self.min_bin_size)

    def _logistic(
        self, encoded: NDArray[np.float64], target: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], float, float]:
        """L2 logistic regression, its strength chosen by stratified k-fold log loss.

        BLAS runs single-threaded here: the problems are small (one column per feature), and
        OpenBLAS's spinning threads made each fit 5-10x slower on a busy 2-core machine.
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._logistic_fit(encoded, target)

    def _logistic_fit(
        self, encoded: NDArray[np.float64], target: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], float, float]:
        grid = list(self.Cs) if self.Cs is not None else list(np.logspace(-3, 2, 11))
        smallest_class = int(min(target.sum(), len(target) - target.sum()))
        n_splits = min(self.cv, smallest_class)
        best_c = grid[len(grid) // 2]
        if n_splits >= 2 and len(grid) > 1:
            folds = list(
                StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state).split(
                    encoded, target
                )
            )
            losses = []
            for c in grid:
                loss = 0.0
                for train, test in folds:
                    model = LogisticRegression(C=c, max_iter=1000).fit(
                        encoded[train], target[train]
                    )
                    p = np.clip(model.predict_proba(encoded[test])[:, 1], 1e-12, 1 - 1e-12)
                    t = target[test]
                    loss -= float(np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)))
                losses.append(loss)
            best_c = grid[int(np.argmin(losses))]
        model = LogisticRegression(C=best_c, max_iter=1000).fit(encoded, target)
        return model.coef_[0].astype(np.float64), float(model.intercept_[0]), float(best_c)

    # -- using the fitted table ------------------------------------------------------------
    def _fitted(self) -> ScorecardModel:
        model: ScorecardModel | None = getattr(self, "model_", None)
        if model is None:
            raise NotFittedError(
                "this Scorecard is not fitted yet",
                hint="call fit(X, y) first, or load a points table with ScorecardModel.load",
            )
        return model

    def _data(self, X: Any) -> Mapping[str, NDArray[Any]]:
        self._fitted()
        names, columns = self._columns(X, reset=False)
        return dict(zip(names, columns, strict=True))

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Class probabilities, in ``classes_`` order, from the points table's rounded points."""
        bad = self._fitted().predict_bad_probability(self._data(X))
        if self.classes_[1] == self.bad_class_:
            return np.column_stack([1.0 - bad, bad])
        return np.column_stack([bad, 1.0 - bad])

    def predict(self, X: Any) -> NDArray[Any]:
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def score_points(self, X: Any) -> NDArray[np.float64]:
        """Scores in ``min_score``-``max_score`` (higher is safer)."""
        return self._fitted().score(self._data(X))

    def explain(self, X: Any, *, top: int = 4) -> list[Explanation]:
        """Per row: points per feature and dimension, reasons, and how to improve."""
        return explain(self._fitted(), self._data(X), top=top)


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
