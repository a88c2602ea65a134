"""A run Spark wrote into the lake, brought into the store like any run (``credo import``).

It goes through the one audited write path (:func:`credo.scoring.runs.write_run`): the run row,
its snapshots and the audit entry in one transaction, so the person's page, the API and
``credo audit verify`` see it as they see a DuckDB run. Before anything is written the run is
checked: its files match their digests and the lake it read, its model, policy and previous
run are the store's, and its rows have the snapshot table's columns, for enrolled persons.
Persons restricted since the lake was exported are left out (decision 0647).
A run is imported once (its snapshot digest is recorded in the audit entry).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from credo.errors import ConflictError, InputError, IntegrityError, NotFoundError
from credo.features import PointInTime, restricted_sql
from credo.policy.products import ProductsPolicy
from credo.scoring.policy_rules import scoring_policy
from credo.scoring.runs import ScoreRun, insert_snapshots, write_run
from credo.spark.lake import Lake, snapshot_parts, snapshots_digest
from credo.store.db import Store
from credo.store.rows import value

__all__ = ["import_run", "lake_runs", "score_on_spark"]


def lake_runs(lake: Lake) -> list[Path]:
    """The run folders in the lake, oldest name first (names start with the as-of date)."""
    folder = lake.root / "runs"
    return (
        sorted(p for p in folder.iterdir() if (p / "run.json").is_file()) if folder.is_dir() else []
    )


def _meta(folder: Path) -> dict[str, Any]:
    path = folder / "run.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text("utf-8"))
        for key in ("as_of", "known_at", "model_id", "policy_digest", "lake_manifest", "snapshots"):
            if not isinstance(meta.get(key), str):
                raise ValueError(f"field {key!r} missing or not text")
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a Spark run's record ({exc})") from None
    return meta


def _check_sources(store: Store, lake: Lake, folder: Path, meta: dict[str, Any]) -> None:
    """The run read this lake, and its model and previous run are in the store."""
    if meta["lake_manifest"] != lake.manifest_digest:
        raise IntegrityError(
            f"{folder / 'run.json'}: computed from another lake manifest"
            f" ({meta['lake_manifest']}, the lake's is {lake.manifest_digest})",
            hint="run the job again on this lake",
        )
    if snapshots_digest(folder / "snapshots") != meta["snapshots"]:
        raise IntegrityError(f"{folder / 'snapshots'}: changed since the run wrote it")
    if not store.scalar("SELECT count(*) FROM models WHERE model_id = ?", [meta["model_id"]]):
        raise NotFoundError(
            f"{folder / 'run.json'}: model {meta['model_id']!r} is not in the store"
        )
    previous = meta.get("previous_run_id")
    if previous is not None and not store.scalar(
        "SELECT count(*) FROM score_runs WHERE run_id = ?", [previous]
    ):
        raise NotFoundError(f"{folder / 'run.json'}: previous run {previous!r} is not in the store")


def _check_part(expected: pa.Schema, persons: pa.Array, path: Path, table: pa.Table) -> pa.Table:
    """One part file's rows have ``score_snapshots``' columns and types, for known persons."""
    if table.column_names != expected.names:
        raise InputError(
            f"{path}: columns {table.column_names} are not score_snapshots' {expected.names}"
        )
    try:
        table = table.cast(expected)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"{path}: a column's type does not fit score_snapshots ({exc})") from None
    known = pc.is_in(table.column("person_id"), value_set=persons)
    if not pc.all(known).as_py():
        row = int(pc.index(known, pa.scalar(False)).as_py())
        raise InputError(
            f"{path}, row {row + 1}, field person_id: {table['person_id'][row].as_py()!r}"
            " is not a person in the store"
        )
    return table


def _read_rows(store: Store, folder: Path) -> pa.Table:
    """The run's part files, each checked, as one table in ``person_id`` order."""
    expected = store.con.sql("SELECT * FROM score_snapshots LIMIT 0").to_arrow_table().schema
    persons = store.con.sql("SELECT person_id FROM persons").to_arrow_table().column(0)
    known = persons.combine_chunks()
    parts = snapshot_parts(folder / "snapshots")
    if not parts:
        raise InputError(f"{folder / 'snapshots'}: no snapshot files (part-*.parquet)")
    table = pa.concat_tables([_check_part(expected, known, p, pq.read_table(p)) for p in parts])
    return table.take(pc.sort_indices(table, [("person_id", "ascending")]))


def import_run(
    store: Store,
    lake: Lake,
    folder: Path,
    *,
    override_why: str | None = None,
    products: ProductsPolicy | None = None,
) -> ScoreRun:
    """Check the run in ``folder`` and write it into the store as one audited monthly run.

    Importing puts the lake's card in use, so the fairness gate stands before the write as it
    does before a DuckDB run (decision 0905, :func:`credo.fairness.bureau.gate_snapshots`):
    a flagged card is refused unless ``override_why`` says why, recorded with the run."""
    meta = _meta(folder)
    origin = f"lake:{meta['snapshots']}"
    if value(
        store.con,
        "SELECT count(*) FROM audit_log WHERE action = 'score_monthly'"
        " AND json_extract_string(details, '$.origin') = ?",
        [origin],
    ):
        raise ConflictError(f"{folder}: this run is already in the store")
    _check_sources(store, lake, folder, meta)
    loaded = lake.policy()
    if loaded.digest != meta["policy_digest"]:
        raise IntegrityError(f"{folder / 'run.json'}: the lake's policy is not the run's")
    table = _read_rows(store, folder)
    # A person who restricted processing after the lake was exported is held here too
    # (decision 0647): their row is not written, and the gate audits the rows that are.
    held = [p for (p,) in store.con.execute(restricted_sql()).fetchall()]
    if held:
        table = table.filter(pc.invert(pc.is_in(table["person_id"], pa.array(held, pa.string()))))
    as_of = dt.date.fromisoformat(meta["as_of"])
    from credo.fairness.bureau import gate_snapshots
    from credo.scoring.train import training_table

    also = gate_snapshots(
        store, as_of, meta["model_id"], loaded, table, override_why, products,
        scoring_policy(loaded), training_table,
    )  # fmt: skip
    pit = PointInTime(
        as_of,
        dt.datetime.fromisoformat(meta["known_at"]),
        scoring_policy(loaded).retention_years,
    )
    return write_run(
        store,
        "monthly",
        pit,
        loaded,
        model_id=meta["model_id"],
        previous=meta.get("previous_run_id"),
        person=None,
        build=insert_snapshots(table),
        origin=origin,
        also=also,
    )


def score_on_spark(
    store: Store,
    lake: Lake,
    as_of: dt.date,
    *,
    known_at: dt.datetime | None = None,
    master: str = "local[*]",
    override_why: str | None = None,
    products: ProductsPolicy | None = None,
) -> ScoreRun:
    """``credo score --engine spark``: the Spark job on a local session, then its import
    (where the fairness gate audits the run's scores before anything is written)."""
    from credo.spark.monthly import run_monthly
    from credo.spark.session import spark_session

    spark = spark_session(master, app="credo-monthly")
    try:
        run = run_monthly(spark, lake, as_of, known_at=known_at)
    finally:
        spark.stop()
    return import_run(store, lake, run.folder, override_why=override_why, products=products)
