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

__all__ = ["read_feature_map", "require_columns", "score_file"]

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
    added = [f"points__{f}" for f in model.features]
    added += [f"dimension__{d}" for d in model.dimensions] + ["raw_points", "score"]
    clash = sorted(set(added) & set(columns))
    if clash:
        raise DataError(f"{str(file)!r} already has output column(s) {clash}")
    suffix = out_path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"--out must end in .parquet or .csv, got {str(out_path)!r}")
    sql = scoring_sql(model, source)
    if keep is not None:
        require_columns(columns, keep, file, "--keep")
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
