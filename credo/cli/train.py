"""``credo train``: one command, two forms, each with one code path.

- ``credo train --as-of DATE ...`` trains on Credo's own events (:func:`train_on_events`);
- ``credo train --table FILE --target COL --out M.json ...`` fits any table
  (:func:`train_on_table`).

The options of each form are grouped under their own heading in ``credo train --help``; the
command checks that exactly one form was asked for and hands over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from credo.cli._common import DbOpt, JsonOpt, user_errors
from credo.cli.models import train_on_table
from credo.cli.scoring import train_on_events

__all__ = ["train"]

EVENTS = "Form 1: credo train --as-of DATE (Credo's own events)"
TABLE = "Form 2: credo train --table FILE --target COL --out M.json (any table)"


@user_errors
def train(
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Train on Credo's own events observed at this date.", rich_help_panel=EVENTS
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            help="With --as-of: policy name or YAML file (default: zhima).",
            rich_help_panel=EVENTS,
        ),
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option(help="With --as-of: only events recorded by then.", rich_help_panel=EVENTS),
    ] = None,
    outcome_months: Annotated[
        int | None,
        typer.Option(
            help="With --as-of: outcome window (default: the policy's).", rich_help_panel=EVENTS
        ),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option(
            help="Or train on this CSV/Parquet table with a target column.", rich_help_panel=TABLE
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="With --table: the outcome column.", rich_help_panel=TABLE)
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out", help="With --table: where to write the points table.", rich_help_panel=TABLE
        ),
    ] = None,
    bad: Annotated[
        str | None, typer.Option(help="With --table: the value meaning bad.", rich_help_panel=TABLE)
    ] = None,
    dimension_map: Annotated[
        Path | None,
        typer.Option(
            help="With --table: YAML/JSON feature -> dimension (optional; may name only some).",
            rich_help_panel=TABLE,
        ),
    ] = None,
    rest_dimension: Annotated[
        str,
        typer.Option(
            help="With --table: the dimension of every feature the map does not name.",
            rich_help_panel=TABLE,
        ),
    ] = "unassigned",
    validation_share: Annotated[
        float | None,
        typer.Option(
            help="With --table: hold out this share of rows (stratified; with --time-column the"
            " latest rows) and report their AUC, KS and Gini.",
            rich_help_panel=TABLE,
        ),
    ] = None,
    time_column: Annotated[
        str | None,
        typer.Option(
            help="With --table: hold out the latest rows by this date column (0.2 unless"
            " --validation-share); the column is not a feature.",
            rich_help_panel=TABLE,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            help="With --table: a column to leave out; repeatable.", rich_help_panel=TABLE
        ),
    ] = None,
    model_version: Annotated[
        str, typer.Option(help="With --table: version label.", rich_help_panel=TABLE)
    ] = "1",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit a scorecard: on Credo's events (--as-of) or on any table (--table --target --out)."""
    if (as_of is None) == (table is None):
        raise typer.BadParameter("give either --as-of (Credo's events) or --table (a file)")
    if table is None:
        train_on_events(
            str(as_of),
            policy=policy,
            known_at=known_at,
            outcome_months=outcome_months,
            db=db,
            as_json=as_json,
        )
        return
    if target is None or out_path is None:
        raise typer.BadParameter("--table needs --target and --out")
    train_on_table(
        table,
        target,
        out_path,
        bad=bad,
        dimension_map=dimension_map,
        rest_dimension=rest_dimension,
        exclude=exclude,
        validation_share=validation_share,
        time_column=time_column,
        model_version=model_version,
    )
