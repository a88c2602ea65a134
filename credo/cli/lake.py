"""The lake: ``credo export --lake DIR`` for Spark, ``credo import --lake DIR`` for its runs.

Thin: parse, open the store, call :mod:`credo.spark`, print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from credo.cli._common import (
    DbOpt,
    GateProductsOpt,
    JsonOpt,
    OverrideWhyOpt,
    emit_json,
    open_store,
    out,
    user_errors,
)

__all__ = ["export_lake", "import_lake"]

LakeOpt = Annotated[Path, typer.Option("--lake", help="The lake folder.")]


@user_errors
def export_lake(
    lake: LakeOpt,
    model: Annotated[str | None, typer.Option(help="Model id, version or JSON file.")] = None,
    policy: Annotated[str | None, typer.Option(help="Policy name or YAML file.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write events, links, persons, past runs, the points table and policy as a Parquet lake."""
    from credo.spark.lake import export_lake as export

    with open_store(db) as store:
        manifest = export(store, lake, model=model, policy=policy)
    data = {
        "lake": str(lake),
        "known_at": manifest.known_at.isoformat(),
        "model_id": manifest.model_id,
        "policy": manifest.policy_name,
        "files": len(manifest.files),
    }
    if as_json:
        emit_json(data)
        return
    out.print(
        f"Lake {lake}: {len(manifest.files):,} files, watermark {manifest.known_at},"
        f" model {manifest.model_id}, policy {manifest.policy_name}."
    )


@user_errors
def import_lake(
    lake: LakeOpt,
    run: Annotated[
        str | None, typer.Option(help="The run folder's name under runs/ (default: the newest).")
    ] = None,
    override_why: OverrideWhyOpt = None,
    products: GateProductsOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bring a Spark run's snapshots from the lake into the store, as one audited run; with
    protected attributes loaded, the fairness gate audits it first (as 'credo score' does)."""
    from credo.errors import NotFoundError
    from credo.policy.products import load_products
    from credo.spark.lake import Lake
    from credo.spark.runs import import_run, lake_runs

    opened = Lake.open(lake)
    runs = lake_runs(opened)
    chosen = [r for r in runs if run is None or r.name == run]
    if not chosen:
        raise NotFoundError(
            f"{lake / 'runs'}: no run {run!r}" if run else f"{lake / 'runs'}: no runs",
            hint="run 'python -m credo.spark.monthly --lake DIR --as-of D' first",
        )
    offers = None if products is None else load_products(products)
    with open_store(db) as store:
        result = import_run(store, opened, chosen[-1], override_why=override_why, products=offers)
    if as_json:
        emit_json(result.to_dict())
        return
    out.print(f"Run {result.run_id}: {result.persons:,} snapshots imported from {chosen[-1]}.")
