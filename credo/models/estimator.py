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
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils import Tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from credo.errors import ModelError
from credo.models._errors import ConstantFeatureWarning, DataError, FitError
from credo.models._fitting import (
    Binned,
    categorical_bins,
    dimension_map,
    feature_points,
    joint_points,
    numeric_bins,
    pooled_bins,
    regress,
    weigh_evidence,
)
from credo.models._frame import (
    FeatureKind,
    column_of,
    infer_kind,
    is_frame,
    to_categorical,
    to_numeric,
)
from credo.models._joint import (
    Monotone,
    best_strength,
    fit_free,
    fit_pooled,
    monotone_direction,
)
from credo.models.binning import categorical_groups, numeric_cuts
from credo.models.document import (
    DroppedFeature,
    FeatureSpec,
    PointsRow,
    PointsTable,
    Scaling,
    Training,
)
from credo.models.explanations import Explanation, explain
from credo.models.table import ScorecardModel, build_table

__all__ = ["DIMENSIONS", "NotFittedError", "Scorecard"]


class NotFittedError(ModelError, _SklearnNotFittedError):  # type: ignore[misc]
    """The estimator was used before ``fit`` (a ``CredoError`` and scikit-learn's own type)."""


#: Zhima's five dimensions; a user's dimension map may use other names.
DIMENSIONS = ("credit_history", "behaviour", "fulfilment_capacity", "identity", "connections")
_DIRECTIONS = ("ascending", "descending", "auto", "none")
_CONSTANT = "constant in the training data"
_ALL_MISSING = "missing in every row of the training data"
#: Training rows from which the joint fit searches its strength on 3 folds instead of 5.
_MANY_ROWS = 10_000


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
        ``cv`` defaults to 5, and to 3 for the joint fit on 10,000 training rows or more
        (its strength search is most of its time; folds that size give steady losses).
    base_points, base_odds, pdo: ``base_points`` at good:bad odds ``base_odds``, ``pdo`` more
        points for each doubling of the odds. min_score, max_score: the clip.
    points_decimals: points are rounded to this many decimals (0: whole points).
    bad_class: which label is "bad"; by default the larger of the two (1 in 0/1).
    points_fit: "joint" (the default, decision 0108): every bin's points fitted together,
        monotone within a feature where its direction is declared or shown ("auto");
        "woe": one weight per feature on its bins' weights of evidence (decision 0103).
    joint_bins: quantile bins per numeric feature before the joint fit pools them
        (default: ``max_bins``).
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
        cv: int | None = None,
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
        points_fit: str = "joint",
        joint_bins: int | None = None,
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
        self.points_fit = points_fit
        self.joint_bins = joint_bins

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
        dims = dimension_map(names, dict(self.dimensions or {}), self.default_dimension)
        if self.points_fit == "joint":
            table = self._fit_joint(names, columns, kinds, target, dims)
            self.model_ = ScorecardModel(table)
            return self
        binned, dropped = self._bin_features(names, columns, kinds, target)
        woe_per_feature = weigh_evidence(binned, target, self.woe_prior)
        grid = list(self.Cs) if self.Cs is not None else list(np.logspace(-3, 2, 11))
        coef, intercept, self.C_ = regress(
            binned, woe_per_feature, target, dropped, grid, self._folds(), self.random_state
        )
        table = self._points_table(binned, woe_per_feature, coef, intercept, dims, dropped, target)
        self.model_ = ScorecardModel(table)
        return self

    def _bin_features(
        self,
        names: list[str],
        columns: list[NDArray[Any]],
        kinds: dict[str, FeatureKind],
        target: NDArray[np.float64],
        *,
        joint: bool = False,
    ) -> tuple[list[Binned], list[DroppedFeature]]:
        """Every feature's bins; a constant or all-missing feature is left out of the table, with
        a warning (a loan book often carries a field nobody fills in). For the joint fit,
        numeric features get plain quantile bins: the fit, not the binning, makes them
        monotone."""
        directions = dict(self.directions or {})
        if joint:
            directions = dict.fromkeys(names, "none")
        binned: list[Binned] = []
        dropped: list[DroppedFeature] = []
        for name, column in zip(names, columns, strict=True):
            feature = self._bin_feature(name, kinds[name], column, target, directions)
            if isinstance(feature, str):
                reason = feature
                warnings.warn(
                    f"feature {name!r} is {reason}; it was left out of the points table",
                    ConstantFeatureWarning,
                    stacklevel=3,  # the caller of ``fit``
                )
                dropped.append(DroppedFeature(name=name, reason=reason))
                continue
            binned.append(feature)
        if not binned:
            raise FitError("no feature varies in the training data: nothing to score on")
        return binned, dropped

    def _points_table(
        self,
        binned: list[Binned],
        woe_per_feature: list[NDArray[np.float64]],
        coef: NDArray[np.float64],
        intercept: float,
        dims: dict[str, str],
        dropped: list[DroppedFeature],
        target: NDArray[np.float64],
    ) -> PointsTable:
        """Scale the regression to points (points to double the odds) and assemble the table."""
        factor = self.pdo / math.log(2)
        features: list[FeatureSpec] = []
        rows: list[PointsRow] = []
        descriptions = dict(self.descriptions or {})
        for feature, beta, woe in zip(binned, coef, woe_per_feature, strict=True):
            description = descriptions.get(feature.name, feature.name.replace("_", " "))
            spec, feature_rows = feature_points(
                feature, beta, woe, dims[feature.name], description, factor
            )
            features.append(spec)
            rows.extend(feature_rows)
        return self._table(intercept, features, rows, dropped, target)

    def _table(
        self,
        intercept: float,
        features: list[FeatureSpec],
        rows: list[PointsRow],
        dropped: list[DroppedFeature],
        target: NDArray[np.float64],
    ) -> PointsTable:
        """The points table, its intercept ``intercept`` (bad log odds) scaled to points."""
        factor = self.pdo / math.log(2)
        offset = self.base_points - factor * math.log(self.base_odds)
        return build_table(
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
                bad_rows=int(float(target.sum())),
                target=None,
                bad_value=str(self.bad_class_),
            ),
        )

    def _fit_joint(
        self,
        names: list[str],
        columns: list[NDArray[Any]],
        kinds: dict[str, FeatureKind],
        target: NDArray[np.float64],
        dims: dict[str, str],
    ) -> PointsTable:
        """Bins, then every bin's points fitted jointly (decision 0108), then the table."""
        from threadpoolctl import threadpool_limits

        binned, dropped = self._bin_features(names, columns, kinds, target, joint=True)
        with threadpool_limits(limits=1, user_api="blas"):  # as fit_logistic: small problems
            return self._joint_table(binned, dropped, target, dims)

    def _joint_table(
        self,
        binned: list[Binned],
        dropped: list[DroppedFeature],
        target: NDArray[np.float64],
        dims: dict[str, str],
    ) -> PointsTable:
        grid = list(self.Cs) if self.Cs is not None else list(np.logspace(-4, 1, 11))
        declared = dict(self.directions or {})
        indexes = [f.index for f in binned]
        sizes = [f.n_bins for f in binned]
        self.C_ = best_strength(
            indexes,
            sizes,
            target,
            self.woe_prior,
            grid,
            self._folds(len(target)),
            self.random_state,
        )
        free = fit_free(indexes, sizes, target, self.woe_prior, self.C_)
        monotone: list[Monotone] = []
        for feature, free_effects in zip(binned, free[0], strict=True):
            ordered = feature.n_bins - 1  # the interval bins; the last is "missing"
            wanted = declared.get(feature.name, "auto")
            if feature.kind != "numeric" or wanted == "none" or ordered < 2:
                monotone.append(None)
                continue
            if wanted == "auto":
                counts = np.bincount(feature.index, minlength=feature.n_bins)[:ordered]
                sign = monotone_direction(free_effects[:ordered], counts.astype(np.float64))
            else:  # "ascending": more is better, so the effect on the bad odds falls
                sign = -1 if wanted == "ascending" else 1
            monotone.append((ordered, sign))
        fitted = fit_pooled(indexes, sizes, monotone, target, self.woe_prior, self.C_, free)
        binned, effects = pooled_bins(binned, fitted.mappings, fitted.effects, monotone, declared)
        woe_per_feature = weigh_evidence(binned, target, self.woe_prior)
        intercept = fitted.intercept
        centred: list[NDArray[np.float64]] = []
        for feature, effect in zip(binned, effects, strict=True):
            counts = np.bincount(feature.index, minlength=feature.n_bins).astype(np.float64)
            mean = float(counts @ effect / counts.sum())
            # a bin no training row fell in (often "missing") has no evidence: the average
            centred.append(np.where(counts > 0, effect - mean, 0.0))
            intercept += mean
        factor = self.pdo / math.log(2)
        descriptions = dict(self.descriptions or {})
        features: list[FeatureSpec] = []
        rows: list[PointsRow] = []
        for feature, effect, woe in zip(binned, centred, woe_per_feature, strict=True):
            description = descriptions.get(feature.name, feature.name.replace("_", " "))
            spec, feature_rows = joint_points(
                feature, effect, woe, dims[feature.name], description, factor
            )
            features.append(spec)
            rows.extend(feature_rows)
        return self._table(intercept, features, rows, dropped, target)

    def _check_params(self) -> None:
        checks = [
            (isinstance(self.max_bins, int) and self.max_bins >= 2, "max_bins must be >= 2"),
            (0 < self.min_bin_size < 0.5, "min_bin_size must be in (0, 0.5)"),
            (self.woe_prior > 0, "woe_prior must be > 0"),
            (
                self.cv is None or (isinstance(self.cv, int) and self.cv >= 2),
                "cv must be an integer >= 2",
            ),
            (self.base_odds > 0 and self.pdo > 0, "base_odds and pdo must be > 0"),
            (self.min_score < self.max_score, "min_score must be below max_score"),
            (self.points_decimals in (0, 1, 2, 3, 4), "points_decimals must be 0 to 4"),
            (self.points_fit in ("joint", "woe"), "points_fit must be 'joint' or 'woe'"),
            (
                self.joint_bins is None
                or (isinstance(self.joint_bins, int) and self.joint_bins >= 2),
                "joint_bins must be >= 2",
            ),
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

    def _bin_feature(
        self,
        name: str,
        kind: FeatureKind,
        column: NDArray[Any],
        target: NDArray[np.float64],
        directions: dict[str, str],
    ) -> Binned | str:
        """Bins for one feature, or why it cannot have any (constant, or missing everywhere)."""
        if kind == "numeric":
            return self._bin_numeric(name, column, target, directions.get(name, "auto"))
        return self._bin_categorical(name, column, target)

    def _bin_numeric(
        self, name: str, column: NDArray[Any], target: NDArray[np.float64], direction: str
    ) -> Binned | str:
        x = to_numeric(column, name)
        missing = np.isnan(x)
        if missing.all():
            return _ALL_MISSING
        if np.unique(x[~missing]).size == 1 and not missing.any():
            return _CONSTANT
        binning = self._numeric_cuts(name, x, target, direction)
        return numeric_bins(name, x, missing, binning.cuts, binning.direction)

    def _bin_categorical(
        self, name: str, column: NDArray[Any], target: NDArray[np.float64]
    ) -> Binned | str:
        values = to_categorical(column)
        missing = np.array([v is None for v in values], dtype=bool)
        if missing.all():
            return _ALL_MISSING
        if len(set(values[~missing])) == 1 and not missing.any():
            return _CONSTANT
        groups, rare = self._categorical_groups(name, values, target)
        return categorical_bins(name, values, groups, rare)

    def _numeric_cuts(
        self, name: str, x: NDArray[np.float64], y: NDArray[np.float64], direction: str
    ) -> Any:
        """Cut points for one numeric feature; a subclass may plug in another binner."""
        return numeric_cuts(
            x,
            y,
            direction=direction,  # type: ignore[arg-type]
            max_bins=self._joint_bins() if self.points_fit == "joint" else self.max_bins,
            min_bin_size=self.min_bin_size,
        )

    def _folds(self, joint_rows: int | None = None) -> int:
        """Folds of the strength search: ``cv``, else 5, or 3 for a joint fit on 10,000+ rows."""
        if self.cv is not None:
            return int(self.cv)
        return 3 if joint_rows is not None and joint_rows >= _MANY_ROWS else 5

    def _joint_bins(self) -> int:
        """Quantile bins per numeric feature for the joint fit (decision 0108)."""
        return self.joint_bins if self.joint_bins is not None else self.max_bins

    def _categorical_groups(
        self, name: str, values: NDArray[np.object_], y: NDArray[np.float64]
    ) -> tuple[list[list[str]], list[str]]:
        """Category groups and rare categories for one feature; a subclass may override."""
        return categorical_groups(values, y, max_bins=self.max_bins, min_bin_size=self.min_bin_size)

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
