"""Scorecards on files: ``credo train --table`` (the table form), ``score-table``, ``validate``.

The commands only parse options, call :mod:`credo.models` and print. The engine (numpy,
scikit-learn and friends) is imported inside each command, so that every other ``credo``
command starts without paying for it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from credo.cli._common import err, out, user_errors
from credo.errors import ConfigError

__all__ = ["score_table", "train_on_table", "validate"]


def train_on_table(
    table: Path,
    target: str,
    out_path: Path,
    *,
    bad: str | None,
    dimension_map: Path | None,
    exclude: list[str] | None,
    model_version: str,
) -> None:
    """Fit a scorecard on a table with a target column and write its points table (JSON)."""
    import numpy as np

    from credo.models._errors import ConstantFeatureWarning
    from credo.models._io import bad_target, read_table
    from credo.models.estimator import Scorecard
    from credo.models.files import read_feature_map, require_columns
    from credo.models.table import with_training

    data = read_table(table)
    excluded = list(exclude or [])
    require_columns(data, [target, *excluded], table, "such")
    y = bad_target(data[target], target, bad)
    features = {k: v for k, v in data.items() if k != target and k not in excluded}
    feature_map = read_feature_map(dimension_map) if dimension_map else {}
    require_columns(features, list(feature_map), dimension_map or table, "mapped feature")
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
    engine: Annotated[
        str, typer.Option(help="duckdb, or spark (Parquet in, a folder of Parquet parts out).")
    ] = "duckdb",
) -> None:
    """Score every row with the compiled SQL: input columns, points per feature, score."""
    from credo.models.files import score_file
    from credo.models.table import ScorecardModel

    model = ScorecardModel.load(model_path)
    if engine == "spark":
        from credo.spark.session import spark_session
        from credo.spark.table import score_parquet

        spark = spark_session("local[*]", app="credo-score-table")
        try:
            rows = score_parquet(spark, model, file, out_path, keep)
        finally:
            spark.stop()
    elif engine == "duckdb":
        rows = score_file(model, file, out_path, keep)
    else:
        raise ConfigError(f"--engine {engine!r}", hint="use duckdb or spark")
    out.print(f"scored {rows} rows with {model.model_id} -> {out_path}", highlight=False)


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
    from credo.models.files import require_columns
    from credo.models.table import ScorecardModel
    from credo.models.validation import validation_report

    model = ScorecardModel.load(model_path)
    data = read_table(table)
    require_columns(data, [target, *model.features], table, "required")
    y = bad_target(data[target], target, bad)
    other = None
    if compare is not None:
        other = read_table(compare)
        require_columns(other, model.features, compare, "feature")
    report = validation_report(model, data, y, compare=other)
    paths = report.write(out_dir)
    psi_text = "" if report.psi is None else f" PSI {report.psi:.4f}"
    out.print(
        f"AUC {report.auc:.4f} KS {report.ks:.4f} Gini {report.gini:.4f}{psi_text}"
        f" -> {', '.join(str(p) for p in paths)}",
        highlight=False,
    )
