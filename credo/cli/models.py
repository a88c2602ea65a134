"""Scorecards on files: ``credo train --table`` (the table form), ``score-table``, ``validate``.

The commands only parse options, call :mod:`credo.models` and print. The engine (numpy,
scikit-learn and friends) is imported inside each command, so that every other ``credo``
command starts without paying for it.
"""

from __future__ import annotations

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
    rest_dimension: str,
    exclude: list[str] | None,
    validation_share: float | None,
    time_column: str | None,
    model_version: str,
) -> None:
    """Fit a scorecard on a table with a target column, write its points table (JSON) and print
    the fit summary."""
    from credo.models.files import read_feature_map
    from credo.models.training import train_table

    fitted = train_table(
        table,
        target,
        bad=bad,
        exclude=list(exclude or []),
        feature_map=read_feature_map(dimension_map) if dimension_map else None,
        rest_dimension=rest_dimension,
        validation_share=validation_share,
        time_column=time_column,
        model_version=model_version,
    )
    for note in fitted.warnings:
        err.print(f"[yellow]warning:[/yellow] {note}", highlight=False)
    model = fitted.model
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_path)
    training = model.table.training
    out.print(
        f"trained {model.model_id} on {training.rows} rows ({training.bad_rows} bad,"
        f" bad = {target} {training.bad_value!r}): {len(model.features)} features -> {out_path}",
        highlight=False,
    )
    summary = training.fit_summary
    assert summary is not None  # train_table always measures the fit
    for name, metrics in (("train", summary.train), ("holdout", summary.holdout)):
        if metrics is not None:
            out.print(
                f"{name:<8} rows {metrics.rows:>8}  AUC {metrics.auc:.4f}  KS {metrics.ks:.4f}"
                f"  Gini {metrics.gini:.4f}",
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
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for report.json/.html.")],
    target: Annotated[
        str | None, typer.Option(help="Outcome column (default: the model's target).")
    ] = None,
    bad: Annotated[
        str | None, typer.Option(help="Target value that means bad (default: the model's).")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(help="Second sample (e.g. another month) for PSI.")
    ] = None,
) -> None:
    """AUC, KS, Gini, calibration, IV per feature and PSI, as JSON and an HTML page."""
    from credo.models.files import require_columns
    from credo.models.reader import raw_types
    from credo.models.table import ScorecardModel
    from credo.models.target import code_target, read_target
    from credo.models.training import read_for_model
    from credo.models.validation import validation_report

    model = ScorecardModel.load(model_path)
    training = model.table.training
    column = target or training.target
    if column is None:
        raise typer.BadParameter("--target is needed: the model does not record its target")
    require_columns(raw_types(table), [column], table, "target")
    data = read_for_model(model, table)
    coding = code_target(read_target(table, column), column, bad or training.bad_value)
    other = None if compare is None else read_for_model(model, compare)
    report = validation_report(model, data, coding.y, compare=other)
    paths = report.write(out_dir)
    psi_text = "" if report.psi is None else f" PSI {report.psi:.4f}"
    out.print(
        f"AUC {report.auc:.4f} KS {report.ks:.4f} Gini {report.gini:.4f}{psi_text}"
        f" -> {', '.join(str(p) for p in paths)}",
        highlight=False,
    )
