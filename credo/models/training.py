# mypy: disable-error-code="import-untyped"
"""A scorecard from any table, and any table scored or validated by it, through one reader.

``train_table`` is ``credo train --table``: read the file (:mod:`credo.models.reader`), code the
target (:mod:`credo.models.target`), hold out a share of rows (at random, stratified, or the
latest by a time column), fit, and store in the model the input schema, the target's coding and
the fit summary (train and holdout AUC, KS, Gini; decision 0106). ``scoring_source`` and
``read_for_model`` read a new file as the model was trained to read it, refusing cells that do
not fit the stored schema.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.models._errors import ConstantFeatureWarning, DataError, FitError
from credo.models.document import ColumnType, FitMetrics, FitSummary
from credo.models.reader import check_cells, infer_schema, raw_types, read_typed, typed_sql
from credo.models.table import ScorecardModel, with_training
from credo.models.target import TargetCoding, code_target, read_target

__all__ = [
    "TableFit",
    "fit_metrics",
    "model_schema",
    "read_for_model",
    "scoring_source",
    "train_table",
]


@dataclass(frozen=True)
class TableFit:
    """The written model and what the user should read: warnings (constant features, ...)."""

    model: ScorecardModel
    warnings: list[str] = field(default_factory=list)


def _require(columns: Mapping[str, Any], names: Sequence[str], path: Path, what: str) -> None:
    from credo.models.files import require_columns

    require_columns(columns, names, path, what)


def train_table(
    path: Path,
    target: str,
    *,
    bad: str | None = None,
    exclude: Sequence[str] = (),
    feature_map: Mapping[str, Mapping[str, Any]] | None = None,
    rest_dimension: str = "unassigned",
    validation_share: float | None = None,
    time_column: str | None = None,
    model_version: str = "1",
) -> TableFit:
    """Fit a scorecard on a CSV/Parquet table; the model records how to read and code it."""
    from credo.models.estimator import Scorecard

    columns = raw_types(path)
    special = [target, *exclude, *([time_column] if time_column else [])]
    _require(columns, special, path, "such")
    names = [c for c in columns if c not in special]
    mapped = dict(feature_map or {})
    _require(dict.fromkeys(names), list(mapped), path, "mapped feature")
    schema = infer_schema(path, columns, names)
    data = read_typed(path, columns, schema)
    coding = code_target(read_target(path, target), target, bad)
    holdout, split = _holdout(path, columns, coding, validation_share, time_column)
    estimator = Scorecard(
        dimensions={k: v["dimension"] for k, v in mapped.items()},
        default_dimension=rest_dimension,
        descriptions={k: v["description"] for k, v in mapped.items() if "description" in v},
        directions={k: v["direction"] for k, v in mapped.items() if "direction" in v},
        categorical_features=sorted(
            {n for n in names if schema[n] == "text"}
            | {k for k, v in mapped.items() if v.get("categorical")}
        ),
        model_version=model_version,
    )
    train_rows = {k: v[~holdout] for k, v in data.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConstantFeatureWarning)
        estimator.fit(train_rows, coding.y[~holdout])
    notes = [str(w.message) for w in caught if issubclass(w.category, ConstantFeatureWarning)]
    model: ScorecardModel = estimator.model_
    summary = FitSummary(
        split=split,
        train=fit_metrics(model, train_rows, coding.y[~holdout]),
        holdout=fit_metrics(model, {k: v[holdout] for k, v in data.items()}, coding.y[holdout])
        if holdout.any()
        else None,
    )
    model = with_training(
        model,
        target=target,
        bad_value=coding.bad,
        good_value=coding.good,
        input_schema=schema,
        fit_summary=summary,
    )
    return TableFit(model=model, warnings=notes)


def _holdout(
    path: Path,
    columns: Mapping[str, str],
    coding: TargetCoding,
    share: float | None,
    time_column: str | None,
) -> tuple[NDArray[np.bool_], str]:
    """Rows held out of the fit and the split's description: none; a stratified random share;
    or, with a time column, the latest share (0.2 unless given) by that column."""
    n = len(coding.y)
    if share is not None and not 0 < share < 1:
        raise DataError(f"--validation-share must be between 0 and 1, got {share}")
    if time_column is not None:
        share = 0.2 if share is None else share
        kind = infer_schema(path, columns, [time_column])[time_column]
        if kind not in ("date", "number"):
            raise DataError(f"time column {time_column!r} holds {kind}, not dates or numbers")
        when = read_typed(path, columns, {time_column: kind})[time_column].astype(np.float64)
        if np.isnan(when).any():
            raise DataError(f"time column {time_column!r} is missing in some rows")
        order = np.argsort(when, kind="stable")
        holdout = np.zeros(n, dtype=bool)
        holdout[order[n - round(n * share) :]] = True
        return _both_classes(holdout, coding), f"time: latest {share:g} by {time_column}"
    if share is None:
        return np.zeros(n, dtype=bool), "none"
    from sklearn.model_selection import train_test_split

    _, test = train_test_split(np.arange(n), test_size=share, stratify=coding.y, random_state=0)
    holdout = np.zeros(n, dtype=bool)
    holdout[test] = True
    return holdout, f"random stratified {share:g}"


def _both_classes(holdout: NDArray[np.bool_], coding: TargetCoding) -> NDArray[np.bool_]:
    for part, name in ((holdout, "holdout"), (~holdout, "training")):
        if len(set(coding.y[part].tolist())) < 2:
            raise DataError(
                f"the {name} part of the time split has one class only",
                hint="use a larger --validation-share or a random split",
            )
    return holdout


def fit_metrics(model: ScorecardModel, data: object, y: NDArray[np.int64]) -> FitMetrics:
    """AUC, KS and Gini of the table's rounded points on one sample."""
    from credo.models.validation import auc, ks

    risk = model.predict_bad_probability(data)
    try:
        area = auc(y, risk)
        spread = ks(y, risk)
    except FitError as exc:
        raise DataError(f"cannot measure the fit: {exc.message}") from None
    return FitMetrics(
        rows=len(y),
        bad_rows=int(y.sum()),
        auc=round(area, 6),
        ks=round(spread, 6),
        gini=round(2 * area - 1, 6),
    )


def model_schema(model: ScorecardModel) -> dict[str, ColumnType]:
    """How each feature is read: as stored in the model, else (older tables) from its kind."""
    stored = model.table.training.input_schema or {}
    return {
        spec.name: stored.get(spec.name, "number" if spec.kind == "numeric" else "text")
        for spec in model.table.features
    }


def scoring_source(model: ScorecardModel, path: Path) -> tuple[str, dict[str, str]]:
    """A relation (SQL text) of the file with the features read as in training, every other
    column as stored, and the file's columns; cells that do not fit are refused first."""
    columns = raw_types(path)
    _require(columns, model.features, path, "feature")
    schema = model_schema(model)
    check_cells(path, columns, schema)
    return f"({typed_sql(path, columns, schema, keep_all=True)})", columns


def read_for_model(model: ScorecardModel, path: Path) -> dict[str, NDArray[Any]]:
    """The model's features from a file, read and checked as :func:`scoring_source` reads them."""
    columns = raw_types(path)
    _require(columns, model.features, path, "feature")
    schema = model_schema(model)
    check_cells(path, columns, schema)
    return read_typed(path, columns, schema)
