"""``credo model ...``: train, score and validate scorecards from CSV or Parquet files.

The commands only parse options, call the library and print; every user error is a
``CredoError`` that ends the command with one line on stderr and its exit code.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import yaml

from credo.commandline import err, out, user_errors
from credo.errors import ConfigError
from credo.sql import ident, literal

# The engine (scikit-learn and friends) is imported inside each command, so that every other
# `credo` command starts without paying for it.

__all__ = ["app", "read_feature_map"]

app = typer.Typer(help="Train, score and validate scorecards.", no_args_is_help=True)


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


def _require(columns: dict[str, Any], names: list[str], path: Path, what: str) -> None:
    from credo.models._errors import DataError

    absent = [n for n in names if n not in columns]
    if absent:
        raise DataError(
            f"{str(path)!r} has no {what} column(s) {', '.join(map(repr, absent))}",
            hint=f"its columns are {', '.join(list(columns)[:15])}",
        )


@app.command()
@user_errors
def train(
    table: Annotated[Path, typer.Option(help="Training data, CSV or Parquet.")],
    target: Annotated[str, typer.Option(help="Outcome column.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the points table.")],
    bad: Annotated[str | None, typer.Option(help="Target value that means bad.")] = None,
    dimension_map: Annotated[
        Path | None, typer.Option(help="YAML/JSON: feature -> dimension (and description).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Column to leave out (an id, a date); repeatable.")
    ] = None,
    model_version: Annotated[str, typer.Option(help="Version label stored in the table.")] = "1",
) -> None:
    """Fit a scorecard on a table with a target column and write its points table (JSON)."""
    from credo.models._errors import ConstantFeatureWarning
    from credo.models._io import bad_target, read_table
    from credo.models.estimator import Scorecard
    from credo.models.table import with_training

    data = read_table(table)
    excluded = list(exclude or [])
    _require(data, [target, *excluded], table, "such")
    y = bad_target(data[target], target, bad)
    features = {k: v for k, v in data.items() if k != target and k not in excluded}
    feature_map = read_feature_map(dimension_map) if dimension_map else {}
    _require(features, list(feature_map), dimension_map or table, "mapped feature")
    if not feature_map:
        err.print(
            f"[yellow]warning:[/yellow] no --dimension-map: all {len(features)} features go to"
            " dimension 'unassigned'",
            highlight=False,
        )
    estimator = Scorecard(
        dimensions={k: v["dimension"] for k, v in feature_map.items()},
        default_dimension=None if feature_map else "unassigned",
        descriptions={k: v["description"] for k, v in feature_map.items() if "description" in v},
        directions={k: v["direction"] for k, v in feature_map.items() if "direction" in v},
        categorical_features=[k for k, v in feature_map.items() if v.get("categorical")],
        model_version=model_version,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConstantFeatureWarning)
        estimator.fit(features, y)
    for warning in caught:
        if issubclass(warning.category, ConstantFeatureWarning):
            err.print(f"[yellow]warning:[/yellow] {warning.message}", highlight=False)
    bad_label = str(data[target][np.argmax(y)])
    model = with_training(estimator.model_, target=target, bad_value=bad_label)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_path)
    out.print(
        f"trained {model.model_id} on {len(y)} rows ({int(y.sum())} bad):"
        f" {len(model.features)} features -> {out_path}",
        highlight=False,
    )


@app.command("score-table")
@user_errors
def score_table(
    file: Annotated[Path, typer.Argument(help="Table to score, CSV or Parquet.")],
    model_path: Annotated[Path, typer.Option("--model", help="Points table (JSON).")],
    out_path: Annotated[Path, typer.Option("--out", help="Scored table, .parquet or .csv.")],
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            help="Write only this input column (repeat it) and the score; without it every input"
            " column, the points per feature and per dimension, and the score.",
        ),
    ] = None,
) -> None:
    """Score every row with the compiled SQL: input columns, points per feature, score."""
    import duckdb

    from credo.models._errors import DataError
    from credo.models._io import source_of, table_columns
    from credo.models.sql import scoring_sql
    from credo.models.table import ScorecardModel

    model = ScorecardModel.load(model_path)
    columns = table_columns(file)
    _require(columns, model.features, file, "feature")
    specs = {s.name: s for s in model.table.features}
    for name in model.features:
        kind = columns[name].upper()
        if specs[name].kind == "numeric" and ("CHAR" in kind or "STRING" in kind):
            raise DataError(
                f"column {name!r} of {str(file)!r} holds text, but the model bins it as numbers",
                hint=_first_text_cell(file, name),
            )
    added = [f"points__{f}" for f in model.features]
    added += [f"dimension__{d}" for d in model.dimensions] + ["raw_points", "score"]
    clash = sorted(set(added) & set(columns))
    if clash:
        raise DataError(f"{str(file)!r} already has output column(s) {clash}")
    suffix = out_path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"--out must end in .parquet or .csv, got {str(out_path)!r}")
    sql = scoring_sql(model, source_of(file))
    if keep is not None:
        _require(columns, keep, file, "--keep")
        kept = ", ".join(ident(c) for c in dict.fromkeys(keep))
        # Only the score is selected, so DuckDB drops the per-feature columns from the plan.
        sql = f"SELECT {kept}, score FROM ({sql})"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "parquet" if suffix == ".parquet" else "csv, header true"
    con = duckdb.connect()
    try:
        con.sql(f"COPY ({sql}) TO {literal(str(out_path))} (FORMAT {fmt})")
        rows = con.sql(f"SELECT count(*) FROM {source_of(out_path)}").fetchall()[0][0]
    except duckdb.Error as exc:
        raise DataError(f"scoring {str(file)!r} failed: {exc}") from None
    out.print(f"scored {rows} rows with {model.model_id} -> {out_path}", highlight=False)


def _first_text_cell(file: Path, column: str) -> str:
    import duckdb

    from credo.models._io import source_of

    q = ident(column)
    try:
        found = (
            duckdb.connect()
            .sql(
                f"SELECT row_number() OVER () AS r, {q} FROM {source_of(file)}"
                f" QUALIFY {q} IS NOT NULL AND TRY_CAST({q} AS DOUBLE) IS NULL LIMIT 1"
            )
            .fetchall()
        )
    except duckdb.Error:
        return "fix the column's type"
    return f"row {found[0][0]} holds {found[0][1]!r}" if found else "fix the column's type"


@app.command()
@user_errors
def validate(
    model_path: Annotated[Path, typer.Option("--model", help="Points table (JSON).")],
    table: Annotated[Path, typer.Option(help="Labelled data, CSV or Parquet.")],
    target: Annotated[str, typer.Option(help="Outcome column.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for report.json/.html.")],
    bad: Annotated[str | None, typer.Option(help="Target value that means bad.")] = None,
    compare: Annotated[
        Path | None, typer.Option(help="Second sample (e.g. another month) for PSI.")
    ] = None,
) -> None:
    """AUC, KS, Gini, calibration, IV per feature and PSI, as JSON and an HTML page."""
    from credo.models._io import bad_target, read_table
    from credo.models.table import ScorecardModel
    from credo.models.validation import validation_report

    model = ScorecardModel.load(model_path)
    data = read_table(table)
    _require(data, [target, *model.features], table, "required")
    y = bad_target(data[target], target, bad)
    other = None
    if compare is not None:
        other = read_table(compare)
        _require(other, model.features, compare, "feature")
    report = validation_report(model, data, y, compare=other)
    paths = report.write(out_dir)
    psi_text = "" if report.psi is None else f" PSI {report.psi:.4f}"
    out.print(
        f"AUC {report.auc:.4f} KS {report.ks:.4f} Gini {report.gini:.4f}{psi_text}"
        f" -> {', '.join(str(p) for p in paths)}",
        highlight=False,
    )
