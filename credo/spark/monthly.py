"""The monthly run on Spark over a lake: the DuckDB run's SQL, then the same Python.

The features point in time and the compiled points table are the text DuckDB runs
(:func:`credo.features.feature_steps`, :func:`credo.scoring.query.scoring_query`), written for
Spark by :mod:`credo.sql.dialects`; the court listings in force are
:func:`credo.scoring.policy_rules.listings_query`. Spark computes them; the per-person rows are
collected and the policy, bands, trend, reasons and next bins are
:func:`credo.scoring.snapshots.assemble_snapshots`, the very function the DuckDB run calls
(docs/decisions/0811-the-monthly-run-on-spark.md). The run is written back into the lake
(``runs/<name>/``) for ``credo import --lake``.

Run it on a cluster as ``spark-submit <path of this file> --lake DIR --as-of D`` (the module's
:func:`main`; docs/scale.md), as ``python -m credo.spark.monthly``, or locally through ``credo
score --engine spark``: one code path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from credo.features import ASSETS_WITHHELD, PointInTime, Steps, feature_steps
from credo.models.table import ScorecardModel
from credo.scoring.policy_rules import check_scale, listings_query, scoring_policy
from credo.scoring.query import scoring_query
from credo.scoring.snapshots import assemble_snapshots
from credo.spark.lake import Lake, file_digest
from credo.spark.session import spark_session
from credo.sql import SPARK
from credo.store.schema import EVENT_TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

__all__ = [
    "SparkRun",
    "main",
    "previous_lake_run",
    "register_lake",
    "run_monthly",
    "stepped",
]


@dataclass(frozen=True)
class SparkRun:
    """A run written into the lake: its folder, what ``run.json`` says, and the per-person rows
    Spark computed (features and compiled points) that the snapshots were made from."""

    folder: Path
    meta: dict[str, Any]
    scored: pa.Table


def register_lake(spark: SparkSession, lake: Lake) -> None:
    """The lake's tables as temporary views named as the store's tables, so the same SQL runs."""
    for event_type, table in EVENT_TABLES.items():
        frame = spark.read.parquet(str(lake.event_folder(event_type))).drop("month")
        frame.createOrReplaceTempView(table)
    for name in ("event_persons", "persons"):
        spark.read.parquet(str(lake.root / name)).createOrReplaceTempView(name)
    # Restricted persons are held by the shared SQL (decision 0647); a lake exported before
    # restrictions were exported has none to hold.
    if (lake.root / "restrictions").exists():
        spark.read.parquet(str(lake.root / "restrictions")).createOrReplaceTempView("restrictions")
    else:
        spark.sql(
            "SELECT CAST(NULL AS STRING) AS person_id, CAST(NULL AS STRING) AS action,"
            " CAST(NULL AS TIMESTAMP) AS changed_at WHERE 1 = 0"
        ).createOrReplaceTempView("restrictions")
    snapshots = spark.read.parquet(str(lake.root / "history" / "score_snapshots"))
    snapshots.createOrReplaceTempView("score_snapshots")


def previous_lake_run(lake: Lake, as_of: dt.date, policy_name: str) -> str | None:
    """The store's rule (:func:`credo.scoring.runs.previous_run`) over the lake's monthly runs:
    the latest of this policy for an earlier month."""
    runs = pq.read_table(lake.root / "history" / "score_runs.parquet").to_pylist()
    earlier = [
        r
        for r in runs
        if r["kind"] == "monthly" and r["as_of"] < as_of and r["policy_name"] == policy_name
    ]
    if not earlier:
        return None
    return str(max(earlier, key=lambda r: (r["as_of"], r["seq"]))["run_id"])


def _run_name(lake: Lake, pit: PointInTime, model_id: str, policy_digest: str) -> str:
    """The same inputs name the same folder: a rerun replaces its own output, nothing else."""
    key = (
        f"{lake.manifest_digest}|{pit.as_of}|{pit.known_at.isoformat()}|{model_id}|{policy_digest}"
    )
    return f"monthly-{pit.as_of:%Y%m%d}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _collect(spark: SparkSession, sql: str) -> pa.Table:
    table: pa.Table = spark.sql(sql).toArrow()
    return table


@contextmanager
def stepped(spark: SparkSession, steps: Steps, scratch: Path) -> Iterator[str]:
    """Write every step of ``steps`` to Parquet in a folder of its own under ``scratch``, in
    order, each read back as a temporary view, and yield the final query reading them; views
    and files go on exit.

    As one text, Spark inlines each step wherever it is read: the one feature plan had 29 scans
    and 43 shuffles, took 44 s to plan, and recomputed the corrections in each of the eight
    passes. A step read back from its files is a plain scan with its true size (the
    optimiser broadcasts the small ones), so each step is planned and computed once. Files, not
    ``cache()`` (whose views keep every earlier step's plan: the driver ran out of heap) nor
    ``localCheckpoint`` (lost with an executor on a cluster): docs/decisions/0214. Each step is
    the same SQL over the same rows, so the run's rows are unchanged, bit for bit.
    """
    tag = uuid.uuid4().hex[:8]  # two runs of the same inputs never share a view or a file
    tables: dict[str, str] = {}
    try:
        for name, _ in steps.steps:
            view, folder = f"credo_step_{name}_{tag}", scratch / tag / name
            start = time.perf_counter()
            spark.sql(steps.upto(name).sql(tables)).write.mode("overwrite").parquet(str(folder))
            spark.read.parquet(str(folder)).createOrReplaceTempView(view)
            tables[name] = view
            log.info("spark step %s: %.2f s", name, time.perf_counter() - start)
        yield steps.sql(tables)
    finally:
        for view in tables.values():
            spark.catalog.dropTempView(view)
        shutil.rmtree(scratch / tag, ignore_errors=True)
        with suppress(OSError):
            scratch.rmdir()  # unless another run is using it


def run_monthly(
    spark: SparkSession, lake: Lake, as_of: dt.date, *, known_at: dt.datetime | None = None
) -> SparkRun:
    """Score every enrolled person of the lake as of ``as_of`` and write the run into it."""
    loaded = lake.policy()
    rules = scoring_policy(loaded)
    model = ScorecardModel.load(lake.model_file)
    check_scale(model, loaded)
    pit = PointInTime(as_of, known_at or lake.manifest.known_at, rules.retention_years)
    previous = previous_lake_run(lake, as_of, loaded.name)
    register_lake(spark, lake)
    # The lake carries no rules profile: asset data is withheld as under the default (R-CRR-4).
    steps = feature_steps(
        pit, dialect_name=SPARK.name, previous_run=previous, withhold_assets=ASSETS_WITHHELD
    )
    folder = lake.root / "runs" / _run_name(lake, pit, model.model_id, loaded.digest)
    with stepped(spark, steps, folder / "steps") as features:
        scored = _collect(spark, scoring_query(model, features, dialect_name=SPARK.name))
    listed = _collect(spark, listings_query(pit, dialect_name=SPARK.name))
    prior = None
    if previous is not None:
        prior = _collect(
            spark,
            f"SELECT person_id, score FROM score_snapshots WHERE run_id = {SPARK.string(previous)}",
        )
    table = assemble_snapshots(pit, model, loaded, scored, listed=listed, prior=prior)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "snapshots.parquet")
    meta: dict[str, Any] = {
        "kind": "monthly",
        "engine": f"spark {spark.version}",
        "as_of": as_of.isoformat(),
        "known_at": pit.known_at.isoformat(),
        "model_id": model.model_id,
        "policy_file": lake.manifest.policy_file,
        "policy_digest": loaded.digest,
        "previous_run_id": previous,
        "lake_manifest": lake.manifest_digest,
        "persons": table.num_rows,
        "snapshots": file_digest(folder / "snapshots.parquet"),
    }
    (folder / "run.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", "utf-8")
    return SparkRun(folder, meta, scored)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m credo.spark.monthly --lake DIR --as-of D [--known-at T] [--master M]``."""
    parser = argparse.ArgumentParser(prog="credo.spark.monthly", description=__doc__)
    parser.add_argument("--lake", required=True, type=Path, help="the lake folder")
    parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--known-at", type=dt.datetime.fromisoformat, default=None)
    parser.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    args = parser.parse_args(argv)
    lake = Lake.open(args.lake)
    spark = spark_session(args.master, app="credo-monthly")
    try:
        run = run_monthly(spark, lake, args.as_of, known_at=args.known_at)
    finally:
        spark.stop()
    print(run.folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
