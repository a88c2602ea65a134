"""Scorecards over files: a feature map read from YAML/JSON, column checks that name the file,
and scoring a CSV or Parquet table into another file inside DuckDB.

The ``credo train --table``, ``score-table`` and ``validate`` commands are thin over these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from credo.errors import ConfigError
from credo.sql import ident, literal

if TYPE_CHECKING:
    from credo.models.table import ScorecardModel

__all__ = [
    "check_outputs",
    "check_scoring_input",
    "read_feature_map",
    "require_columns",
    "score_file",
]

_FEATURE_KEYS = {"dimension", "description", "direction", "categorical"}


def read_feature_map(path: Path) -> dict[str, dict[str, Any]]:
    """A YAML/JSON map of feature -> dimension, or feature -> {dimension, description, ...}."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read dimension map {str(path)!r}: {exc}") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"dimension map {str(path)!r} is not valid: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"dimension map {str(path)!r} must map feature names to dimensions")
    features: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        entry = {"dimension": value} if isinstance(value, str) else value
        if not isinstance(entry, dict) or not isinstance(entry.get("dimension"), str):
            raise ConfigError(
                f"dimension map {str(path)!r}, feature {name!r}: give a dimension name, or a"
                " mapping with a 'dimension' key"
            )
        unknown = set(entry) - _FEATURE_KEYS
        if unknown:
            raise ConfigError(
                f"dimension map {str(path)!r}, feature {name!r}: unknown key(s) {sorted(unknown)}",
                hint=f"known keys: {', '.join(sorted(_FEATURE_KEYS))}",
            )
        features[str(name)] = entry
    return features


def require_columns(
    columns: Mapping[str, Any], names: Iterable[str], path: Path, what: str
) -> None:
    """A ``DataError`` naming the file and every absent column (``what``: "feature", ...)."""
    from credo.models._errors import DataError

    absent = [n for n in names if n not in columns]
    if absent:
        raise DataError(
            f"{str(path)!r} has no {what} column(s) {', '.join(map(repr, absent))}",
            hint=f"its columns are {', '.join(list(columns)[:15])}",
        )


def check_scoring_input(
    model: ScorecardModel,
    columns: Mapping[str, str],
    file: Path,
    keep: list[str] | None,
) -> None:
    """What an engine that reads stored types (Spark) checks before scoring ``file``
    (``columns``: name to SQL type): every feature present, numbers where the model bins
    numbers, and the outputs (:func:`check_outputs`). DuckDB reads through the scorecard's
    reader instead, which coerces yes/no and formatted numbers (decision 0104)."""
    from credo.models._errors import DataError

    require_columns(columns, model.features, file, "feature")
    specs = {s.name: s for s in model.table.features}
    for name in model.features:
        kind = columns[name].upper()
        if specs[name].kind == "numeric" and ("CHAR" in kind or "STRING" in kind):
            raise DataError(
                f"column {name!r} of {str(file)!r} holds text, but the model bins it as numbers",
                hint=_first_text_cell(file, name),
            )
    check_outputs(model, columns, file, keep)


def check_outputs(
    model: ScorecardModel, columns: Mapping[str, str], file: Path, keep: list[str] | None
) -> None:
    """No output column already in the file; every ``keep`` column present."""
    from credo.models._errors import DataError

    added = [f"points__{f}" for f in model.features]
    added += [f"dimension__{d}" for d in model.dimensions] + ["raw_points", "score"]
    clash = sorted(set(added) & set(columns))
    if clash:
        raise DataError(f"{str(file)!r} already has output column(s) {clash}")
    if keep is not None:
        require_columns(columns, keep, file, "--keep")


def score_file(
    model: ScorecardModel, file: Path, out_path: Path, keep: list[str] | None = None
) -> int:
    """Score every row of ``file`` into ``out_path`` (.parquet or .csv) with the compiled SQL:
    the input columns (or only ``keep``; features as the model reads them, e.g. yes/no as 1/0),
    points per feature and dimension, and the score. Returns the number of rows written."""
    import duckdb

    from credo.models._errors import DataError
    from credo.models._io import source_of
    from credo.models.sql import scoring_sql
    from credo.models.training import scoring_source

    source, columns = scoring_source(model, file)
    check_outputs(model, columns, file, keep)
    suffix = out_path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"--out must end in .parquet or .csv, got {str(out_path)!r}")
    sql = scoring_sql(model, source)
    if keep is not None:
        kept = ", ".join(ident(c) for c in dict.fromkeys(keep))
        # Only the score is selected, so DuckDB drops the per-feature columns from the plan.
        sql = f"SELECT {kept}, score FROM ({sql})"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "parquet" if suffix == ".parquet" else "csv, header true"
    con = duckdb.connect()
    try:
        con.sql(f"COPY ({sql}) TO {literal(str(out_path))} (FORMAT {fmt})")
        (written,) = con.execute(f"SELECT count(*) FROM {source_of(out_path)}").fetchall()
    except duckdb.Error as exc:
        raise DataError(f"scoring {str(file)!r} failed: {exc}") from None
    (count,) = written
    return int(count)


def _first_text_cell(file: Path, column: str) -> str:
    """Where the first non-number of a column is, as a hint."""
    import duckdb

    from credo.models._io import source_of

    q = ident(column)
    try:
        found = (
            duckdb.connect()
            .execute(
                f"SELECT row_number() OVER () AS r, {q} FROM {source_of(file)}"
                f" QUALIFY {q} IS NOT NULL AND TRY_CAST({q} AS DOUBLE) IS NULL LIMIT 1"
            )
            .fetchone()
        )
    except duckdb.Error:
        return "fix the column's type"
    if found is None:
        return "fix the column's type"
    row_no, cell = found
    return f"row {row_no} holds {cell!r}"
