"""The points table: the published, versioned JSON document that *is* a Credo scorecard.

Everything needed to score, explain and audit lives in it; nothing else (no pickle, no training
data) is needed to load it. ``to_json`` writes keys sorted and rows in a fixed order so two
versions diff line by line; ``from_json`` checks the schema and the table's own consistency and
names the first problem it finds. The ``model_id`` is a hash of the content, so a score snapshot
that records it names exactly the table that made it. The document's fields are
:mod:`credo.models.document`; here a table is built, loaded, checked and scored from.

Points are stored rounded to ``scaling.points_decimals`` places and summed as integers of that
unit: the NumPy path here and the SQL path in :mod:`credo.models.sql` agree to the last digit.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from credo.models._errors import DataError, FitError
from credo.models._frame import column_of, to_categorical, to_numeric
from credo.models.document import (
    FORMAT,
    FORMAT_VERSION,
    DroppedFeature,
    FeatureSpec,
    Intercept,
    PointsRow,
    PointsTable,
    Scaling,
    Training,
)

__all__ = ["ScorecardModel", "build_table", "content_id", "with_training"]

_KIND_ORDER = {"interval": 0, "categories": 0, "other": 1, "missing": 2}


def _round_number(value: float, places: int) -> float | int:
    return round(value) if places == 0 else round(value, places)


def _units(value: float, places: int) -> int:
    return int(round(value * 10**places))  # noqa: RUF046 - numpy floats round to floats


def content_id(document: Mapping[str, Any]) -> str:
    """``sha256:`` of the canonical JSON of everything but ``model_id`` itself (16 hex digits)."""
    body = {k: v for k, v in document.items() if k != "model_id"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"sha256:{digest[:16]}"


@dataclass(frozen=True)
class _Compiled:
    """One feature's lookup: bin index per row, then points (in units) per bin."""

    spec: FeatureSpec
    rows: tuple[PointsRow, ...]
    units: NDArray[np.int64]  # per row of ``rows``
    cuts: NDArray[np.float64]  # numeric: uppers of all interval rows but the last
    categories: dict[str, int]  # categorical: category -> index into rows
    other: int  # index of the "other" row (categorical), -1 for numeric
    missing: int  # index of the "missing" row

    def bin_index(self, column: NDArray[Any]) -> NDArray[np.intp]:
        if self.spec.kind == "numeric":
            x = to_numeric(column, self.spec.name)
            index = np.searchsorted(self.cuts, x, side="right").astype(np.intp)
            index[np.isnan(x)] = self.missing
            return index
        # One dict lookup per value; only values not found (missing, unseen, or numbers that
        # must first be rendered as text) take the slow path.
        values = column.astype(object) if column.dtype.kind in "US" else column
        if values.dtype != object:
            values = to_categorical(values)
        get = self.categories.get
        index = np.fromiter((get(v, -1) for v in values), dtype=np.intp, count=len(values))
        # The values not found rendered in one call, not one call each: half a million
        # missing values of a run cost ~2 s that way (decision 0818).
        slow = np.flatnonzero(index == -1)
        texts = to_categorical(values[slow])
        index[slow] = [self.missing if t is None else get(t, self.other) for t in texts]
        return index


class ScorecardModel:
    """A loaded (or freshly fitted) points table, ready to score with NumPy or compile to SQL."""

    def __init__(self, table: PointsTable) -> None:
        _check_consistency(table)
        self.table = table
        self._compiled = {spec.name: _compile(table, spec) for spec in table.features}

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = self.table.model_dump(mode="json")
        return document

    def to_json(self) -> str:
        """Stable text: sorted keys, sorted rows, two-space indent, trailing newline."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "points table") -> ScorecardModel:
        """Parse and validate; any problem is a ``ModelError`` naming where it is."""
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FitError(
                f"{source} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        return cls.from_dict(document, source=source)

    @classmethod
    def from_dict(cls, document: object, *, source: str = "points table") -> ScorecardModel:
        if isinstance(document, dict):
            found = (document.get("format"), document.get("format_version"))
            if found[0] == FORMAT and isinstance(found[1], int) and found[1] > FORMAT_VERSION:
                raise FitError(
                    f"{source} has format_version {found[1]!r}; this Credo reads {FORMAT_VERSION}",
                    hint="upgrade Credo to read newer points tables",
                )
        try:
            table = PointsTable.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = _location(first["loc"], document)
            raise FitError(
                f"{source} does not match the points-table schema at {where}: {first['msg']}",
                hint=f"{exc.error_count()} problem(s) in all",
            ) from None
        expected = content_id(table.model_dump(mode="json"))
        if table.model_id != expected:
            raise FitError(
                f"{source}: model_id {table.model_id!r} does not match its content ({expected})",
                hint="the table was edited after it was written; set model_id to the new"
                " content hash (credo.models.table.content_id) and bump model_version",
            )
        try:
            return cls(table)
        except FitError as exc:
            raise FitError(f"{source}: {exc.message}", hint=exc.hint) from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ScorecardModel:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError(f"no model file {str(path)!r}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read model file {str(path)!r}: {exc}") from None
        return cls.from_json(text, source=str(path))

    # -- properties ------------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self.table.model_id

    @property
    def features(self) -> list[str]:
        return [spec.name for spec in self.table.features]

    @property
    def dimensions(self) -> list[str]:
        """Dimension names in first-use order of the (sorted) features."""
        return list(dict.fromkeys(spec.dimension for spec in self.table.features))

    @property
    def unit(self) -> int:
        """Points are stored in multiples of ``1 / unit``."""
        return int(10**self.table.scaling.points_decimals)

    # -- scoring ---------------------------------------------------------------------------
    def bin_indexes(self, data: object) -> dict[str, NDArray[np.intp]]:
        """Per feature, the index (into that feature's rows) of each data row's bin."""
        return {name: c.bin_index(column_of(data, name)) for name, c in self._compiled.items()}

    def feature_units(self, data: object) -> dict[str, NDArray[np.int64]]:
        """Per feature, points in integer units (points x ``unit``): exact to add up."""
        return {
            name: self._compiled[name].units[index]
            for name, index in self.bin_indexes(data).items()
        }

    def raw_units(self, data: object, n_rows: int | None = None) -> NDArray[np.int64]:
        units = self.feature_units(data)
        first = next(iter(units.values()), None)
        length = len(first) if first is not None else (n_rows or 0)
        total = np.full(length, _units(self.table.intercept.points, self._places), np.int64)
        for value in units.values():
            total += value
        return total

    @property
    def _places(self) -> int:
        return self.table.scaling.points_decimals

    def score(self, data: object) -> NDArray[np.float64]:
        """Scores clipped to ``min_score``-``max_score``, exact to ``points_decimals`` places."""
        scaling = self.table.scaling
        low, high = _units(scaling.min_score, self._places), _units(scaling.max_score, self._places)
        return np.clip(self.raw_units(data), low, high) / self.unit

    def predict_bad_probability(self, data: object) -> NDArray[np.float64]:
        """Probability of the bad class implied by the (unclipped) points total."""
        return self.probability_from_points(self.raw_units(data) / self.unit)

    def probability_from_points(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        scaling = self.table.scaling
        factor = scaling.pdo / math.log(2)
        offset = scaling.base_points - factor * math.log(scaling.base_odds)
        log_odds_good = (points - offset) / factor
        return np.asarray(1.0 / (1.0 + np.exp(np.clip(log_odds_good, -700, 700))))

    def rows_of(self, feature: str) -> tuple[PointsRow, ...]:
        return self._compiled[feature].rows

    def units_of(self, feature: str) -> NDArray[np.int64]:
        return self._compiled[feature].units


def _location(loc: tuple[int | str, ...], document: object) -> str:
    """``rows[3] (feature 'age', bin 2).points`` rather than pydantic's bare tuple."""
    text = ""
    node: object = document
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            if isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                if isinstance(node, dict) and "feature" in node:
                    text += f" (feature {node.get('feature')!r}, bin {node.get('bin')!r})"
                elif isinstance(node, dict) and "name" in node:
                    text += f" ({node.get('name')!r})"
            continue
        text += f".{part}" if text else str(part)
        node = node.get(part) if isinstance(node, dict) else None
    return text or "the top level"


def _check_consistency(table: PointsTable) -> None:
    """What a JSON Schema cannot say: bins cover each feature once, points are on the grid."""
    places = table.scaling.points_decimals
    if table.scaling.min_score >= table.scaling.max_score:
        raise FitError("scaling.min_score must be below scaling.max_score")
    names = [spec.name for spec in table.features]
    if len(set(names)) != len(names):
        raise FitError("a feature is listed twice in features")
    if names != sorted(names):
        raise FitError("features must be sorted by name")
    by_feature: dict[str, list[PointsRow]] = {name: [] for name in names}
    for i, row in enumerate(table.rows):
        where = f"rows[{i}] (feature {row.feature!r}, bin {row.bin})"
        if row.feature not in by_feature:
            raise FitError(f"{where}: feature is not listed in features")
        value = row.points * 10**places
        if abs(value - round(value)) > 1e-6:
            raise FitError(f"{where}: points {row.points} has more than {places} decimals")
        by_feature[row.feature].append(row)
    order = [(r.feature, r.bin) for r in table.rows]
    if order != sorted(order) or len(set(order)) != len(order):
        raise FitError("rows must be sorted by feature and bin, each bin once")
    value = table.intercept.points * 10**places
    if abs(value - round(value)) > 1e-6:
        raise FitError(f"intercept.points has more than {places} decimals")
    for spec in table.features:
        _check_feature(spec, by_feature[spec.name])


def _check_feature(spec: FeatureSpec, rows: list[PointsRow]) -> None:
    where = f"feature {spec.name!r}"
    kinds = [r.kind for r in rows]
    if [r.bin for r in rows] != list(range(len(rows))):
        raise FitError(f"{where}: bins must be numbered 0, 1, 2, ... without gaps")
    if kinds.count("missing") != 1 or kinds[-1] != "missing":
        raise FitError(f"{where}: needs exactly one 'missing' row, as its last bin")
    if any(r.dimension != spec.dimension for r in rows):
        raise FitError(f"{where}: every row must carry the feature's dimension {spec.dimension!r}")
    regular = rows[:-1]
    if spec.kind == "numeric":
        if not regular or any(r.kind != "interval" for r in regular):
            raise FitError(f"{where}: a numeric feature has interval rows, then 'missing'")
        if regular[0].lower is not None or regular[-1].upper is not None:
            raise FitError(f"{where}: the first interval must start and the last end unbounded")
        for prev, row in pairwise(regular):
            if prev.upper is None or row.lower != prev.upper:
                raise FitError(
                    f"{where}, bin {row.bin}: lower bound {row.lower} must equal the previous"
                    f" upper bound {prev.upper}"
                )
        for row in regular:
            if row.lower is not None and row.upper is not None and not row.lower < row.upper:
                raise FitError(f"{where}, bin {row.bin}: lower bound is not below upper bound")
        return
    if kinds[:-1].count("other") != 1 or kinds[-2] != "other":
        raise FitError(f"{where}: a categorical feature has category rows, 'other', 'missing'")
    seen: set[str] = set()
    for row in regular[:-1]:
        if row.kind != "categories" or not row.categories:
            raise FitError(f"{where}, bin {row.bin}: expected a non-empty list of categories")
        if row.categories != sorted(row.categories):
            raise FitError(f"{where}, bin {row.bin}: categories must be sorted")
        if seen & set(row.categories):
            raise FitError(f"{where}, bin {row.bin}: a category appears in two bins")
        seen |= set(row.categories)


def _compile(table: PointsTable, spec: FeatureSpec) -> _Compiled:
    places = table.scaling.points_decimals
    rows = tuple(r for r in table.rows if r.feature == spec.name)
    units = np.array([_units(r.points, places) for r in rows], dtype=np.int64)
    missing = len(rows) - 1
    if spec.kind == "numeric":
        cuts = np.array([r.upper for r in rows[:-2]], dtype=np.float64)
        return _Compiled(spec, rows, units, cuts, {}, -1, missing)
    categories = {c: i for i, r in enumerate(rows) for c in (r.categories or [])}
    return _Compiled(spec, rows, units, np.empty(0), categories, missing - 1, missing)


def build_table(
    *,
    model_version: str,
    scaling: Scaling,
    intercept_points: float,
    features: list[FeatureSpec],
    rows: list[PointsRow],
    dropped: list[DroppedFeature],
    training: Training,
) -> PointsTable:
    """Assemble a table in canonical order, rounding points to the grid, with its content id."""
    places = scaling.points_decimals
    features = sorted(features, key=lambda f: f.name)
    rows = sorted(
        (r.model_copy(update={"points": _round_number(r.points, places)}) for r in rows),
        key=lambda r: (r.feature, r.bin),
    )
    draft = PointsTable(
        model_id="",
        model_version=model_version,
        scaling=scaling,
        intercept=Intercept(points=_round_number(intercept_points, places)),
        features=features,
        rows=rows,
        dropped_features=sorted(dropped, key=lambda d: d.name),
        training=training,
    )
    return draft.model_copy(update={"model_id": content_id(draft.model_dump(mode="json"))})


def with_training(model: ScorecardModel, **fields: Any) -> ScorecardModel:
    """The same table with ``fields`` of its training record set (target, coding, input schema,
    fit summary); a new content id."""
    training = model.table.training.model_copy(update=fields)
    draft = model.table.model_copy(update={"training": Training.model_validate(training)})
    return ScorecardModel(
        draft.model_copy(update={"model_id": content_id(draft.model_dump(mode="json"))})
    )
