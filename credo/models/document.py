"""The points table's JSON document, version 1: its fields, checked on load, and its JSON Schema.

:mod:`credo.models.table` loads, checks and scores from it (``ScorecardModel``); the schema
published with the docs (``schema/points-table.v1.json``) is generated from these classes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ColumnType",
    "DroppedFeature",
    "FeatureSpec",
    "FitMetrics",
    "FitSummary",
    "Intercept",
    "PointsRow",
    "PointsTable",
    "Scaling",
    "Training",
    "points_table_schema",
]

FORMAT = "credo.scorecard.points-table"
FORMAT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scaling(_Strict):
    """Points-to-double-odds: ``base_points`` at ``base_odds`` (good:bad), +``pdo`` per doubling."""

    base_points: float
    base_odds: float = Field(gt=0)
    pdo: float = Field(gt=0)
    min_score: float
    max_score: float
    points_decimals: int = Field(ge=0, le=4)


class Intercept(_Strict):
    """Points every scored row starts with; feature points add to it (kept apart, not spread)."""

    handling: Literal["separate"] = "separate"
    points: int | float


class FeatureSpec(_Strict):
    name: str = Field(min_length=1)
    kind: Literal["numeric", "categorical"]
    dimension: str = Field(min_length=1)
    description: str
    direction: Literal["ascending", "descending", "none"] | None = None
    coefficient: float
    information_value: float


class PointsRow(_Strict):
    """One bin of one feature. Intervals are ``lower <= x < upper`` (null = unbounded)."""

    feature: str
    bin: int = Field(ge=0)
    kind: Literal["interval", "categories", "other", "missing"]
    lower: float | None = None
    upper: float | None = None
    categories: list[str] | None = None
    woe: float
    points: int | float
    dimension: str
    description: str
    count: int = Field(ge=0)
    bad_count: int = Field(ge=0)


class DroppedFeature(_Strict):
    name: str
    reason: str


#: How the table reader types a column (decision 0104): booleans, numbers and dates are binned as
#: numbers (1/0, the value, the date as YYYYMMDD), text as categories.
ColumnType = Literal["boolean", "number", "date", "text"]


class FitMetrics(_Strict):
    """Discrimination of the fitted table on one sample (from the rounded points)."""

    rows: int = Field(ge=0)
    bad_rows: int = Field(ge=0)
    auc: float
    ks: float
    gini: float


class FitSummary(_Strict):
    """Train and, with a validation share or a time split, holdout metrics (decision 0106)."""

    split: str
    train: FitMetrics
    holdout: FitMetrics | None = None


# Added after version 1 was published: left out of the document while unset, so tables written
# before them keep their text and their content id (``model_id``).
_OPTIONAL_TRAINING = ("good_value", "input_schema", "fit_summary")


class Training(_Strict):
    """What the table was fitted on: rows, the target's coding, the input schema, the fit."""

    rows: int = Field(ge=0)
    bad_rows: int = Field(ge=0)
    target: str | None = None
    bad_value: str | None = None
    good_value: str | None = None
    input_schema: dict[str, ColumnType] | None = None
    fit_summary: FitSummary | None = None

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if k not in _OPTIONAL_TRAINING or v is not None}


class PointsTable(_Strict):
    """The JSON document, version 1. Its JSON Schema is :func:`points_table_schema`."""

    format: Literal["credo.scorecard.points-table"] = "credo.scorecard.points-table"
    format_version: Literal[1] = 1
    model_id: str
    model_version: str = Field(min_length=1)
    scaling: Scaling
    intercept: Intercept
    features: list[FeatureSpec]
    rows: list[PointsRow]
    dropped_features: list[DroppedFeature] = []
    training: Training


def points_table_schema() -> dict[str, Any]:
    """JSON Schema of the points table (published with the docs; checked by a test)."""
    schema = PointsTable.model_json_schema()
    schema["$id"] = f"https://credo.invalid/schemas/{FORMAT}.v{FORMAT_VERSION}.json"
    schema["title"] = "Credo scorecard points table"
    return schema
