"""The monthly run on Spark over a lake: the DuckDB run's SQL, then the same Python, per partition.

The features point in time and the compiled points table are the text DuckDB runs
(:func:`credo.features.feature_steps`, :func:`credo.scoring.query.scoring_query`), written for
Spark by :mod:`credo.sql.dialects`; the court listings in force are
:func:`credo.features.listings_sql`, and the previous run's scores come from the lake's history.
Spark joins each person's listings and previous score to their row, splits the persons by hash
into partitions, and in each partition an executor's Python worker runs
:func:`credo.scoring.snapshots.assemble_snapshots`, the very function the DuckDB run calls, and
writes that partition's snapshots as Parquet (``runs/<name>/snapshots/part-NNNNN.parquet``).
The driver receives one line per partition (file, persons, digest), never a person's row, so
the population is bounded by the executors, not by the driver (docs/decisions/0811, 0813). The
run is written into the lake for ``credo import --lake``.

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
import math
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from credo.features import ASSETS_WITHHELD, PointInTime, Steps, feature_steps, listings_sql
from credo.models.table import ScorecardModel
from credo.policy.schema import LoadedPolicy
from credo.scoring.policy_rules import check_scale, scoring_policy
from credo.scoring.query import scoring_query
from credo.scoring.snapshots import assemble_snapshots
from credo.spark.lake import Lake, file_digest, parts_digest
from credo.spark.session import spark_session
from credo.sql import SPARK
from credo.store.schema import EVENT_TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

__all__ = [
    "MIN_PARTITIONS",
    "PERSONS_PER_PARTITION",
    "Part",
    "SparkRun",
    "assemble_partition",
    "main",
    "previous_lake_run",
    "register_lake",
    "run_monthly",
    "scored_rows",
    "stepped",
]

# A partition's persons are held at once by one Python worker (rows of ~40 columns, then the
# snapshot's): 100,000 persons is a few hundred MB there. At least 8 partitions, so a small
# lake still keeps several cores busy. The count is fixed by the lake, not by the cluster, so
# the same inputs give the same files (and the same digest) wherever they run.
PERSONS_PER_PARTITION = 100_000
MIN_PARTITIONS = 8

_LISTINGS = "_credo_listings"
_PRIOR = "_credo_prior_score"
# What the persons are split by: a hash of the person, as a column of its own. Split by
# ``person_id`` itself, Spark drops the split when the rows are already hashed by person for
# the last GROUP BY, and adaptive execution then merges those partitions (400 persons went
# into one); a split by a column no earlier step is hashed by is kept, in the given count.
_KEY = "_credo_split"
_PART_SCHEMA = "part STRING, persons BIGINT, digest STRING, written_by STRING"


@dataclass(frozen=True)
class Part:
    """One partition's snapshots file as the executor that wrote it reported it (``written_by``:
    the host and process id of the Python worker)."""

    part: str
    persons: int
    digest: str
    written_by: str


@dataclass(frozen=True)
class SparkRun:
    """A run written into the lake: its folder, what ``run.json`` says, and its part files."""

    folder: Path
    meta: dict[str, Any]
    parts: tuple[Part, ...]


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


def assemble_partition(
    pit: PointInTime,
    model: ScorecardModel,
    loaded: LoadedPolicy,
    rows: pa.Table,
    *,
    with_prior: bool,
) -> pa.Table:
    """The snapshots of one partition's persons from their rows as Spark joined them: the
    features and compiled points, each person's listings in force (a list of ``listed_on,
    court, case_number``) and, ``with_prior``, their previous score.

    Every rule of :func:`assemble_snapshots` reads one person's own values (no rank, share or
    count over the population: docs/decisions/0813), so any split of persons gives each the row
    the whole population gives. The listings are put back in :func:`listings_query`'s order as
    DuckDB sorts it (``NULL`` last), since a person's list shows them in that order."""
    persons = rows.column("person_id").combine_chunks().cast(pa.string())
    listings = rows.column(_LISTINGS).combine_chunks()
    listed_on, court, case_number = pc.list_flatten(listings).flatten()
    listed = pa.table(
        {
            "person_id": persons.take(pc.list_parent_indices(listings)),
            "listed_on": listed_on,
            "court": court,
            "case_number": case_number,
        }
    )
    keys = [(c, "ascending") for c in listed.column_names]  # NULL last: Arrow's default
    listed = listed.take(pc.sort_indices(listed, keys))
    prior = pa.table({"person_id": persons, "score": rows.column(_PRIOR)}) if with_prior else None
    scored = rows.drop_columns([c for c in (_LISTINGS, _PRIOR, _KEY) if c in rows.column_names])
    listed = listed.select(["person_id", "court", "case_number"])
    return assemble_snapshots(pit, model, loaded, scored, listed=listed, prior=prior)


def _write_part(table: pa.Table, path: Path, attempt: str) -> str:
    """Write ``table`` to ``path`` through a file of this attempt's own, renamed at the end: a
    retried or speculative task writes the same bytes, and a reader never sees half a file."""
    scratch = path.with_name(f".{path.name}.{attempt}")
    pq.write_table(table, scratch)
    digest = file_digest(scratch)
    os.replace(scratch, path)
    return digest


@dataclass(frozen=True)
class _Assemble:
    """The Python step of one partition, run by an executor's Python worker (``mapInArrow``):
    its persons' snapshots written to ``part-<partition>.parquet`` in ``out``, and one row
    about the file returned; the persons' rows stay on the executor."""

    pit: PointInTime
    model: ScorecardModel
    loaded: LoadedPolicy
    out: str
    with_prior: bool

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        received = list(batches)
        if not sum(b.num_rows for b in received):
            return  # a partition no person hashed to writes no file
        task = TaskContext.get()
        if task is None:
            raise RuntimeError("the per-partition step runs in a Spark task")
        table = assemble_partition(
            self.pit, self.model, self.loaded, pa.Table.from_batches(received),
            with_prior=self.with_prior,
        )  # fmt: skip
        name = f"part-{task.partitionId():05d}.parquet"
        digest = _write_part(table, Path(self.out) / name, str(task.taskAttemptId()))
        yield pa.RecordBatch.from_pydict(
            {
                "part": [name],
                "persons": [table.num_rows],
                "digest": [digest],
                "written_by": [f"{socket.gethostname()}:{os.getpid()}"],
            }
        )


@dataclass(frozen=True)
class _Job:
    """What a run reads, settled before Spark computes anything."""

    loaded: LoadedPolicy
    model: ScorecardModel
    pit: PointInTime
    previous: str | None
    steps: Steps
    folder: Path


def _job(spark: SparkSession, lake: Lake, as_of: dt.date, known_at: dt.datetime | None) -> _Job:
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
    return _Job(loaded, model, pit, previous, steps, folder)


def _per_person_sql(job: _Job, features: str) -> str:
    """Each person's scored row with what the Python step needs beside it: their listings in
    force (unordered here: Spark's ``collect_list`` keeps no order) and previous score."""
    scored = scoring_query(job.model, features, dialect_name=SPARK.name, ordered=False)
    listed = listings_sql(job.pit, dialect_name=SPARK.name)
    listing = "named_struct('listed_on', listed_on, 'court', court, 'case_number', case_number)"
    sql = (
        f"SELECT s.*, l.{_LISTINGS} FROM (\n{scored}) s\n"
        f"LEFT JOIN (SELECT person_id, collect_list({listing}) AS {_LISTINGS}"
        f" FROM (\n{listed}) x GROUP BY person_id) l ON l.person_id = s.person_id"
    )
    if job.previous is None:
        return sql
    return (
        f"SELECT r.*, p.score AS {_PRIOR} FROM ({sql}) r\n"
        "LEFT JOIN (SELECT person_id, score FROM score_snapshots"
        f" WHERE run_id = {SPARK.string(job.previous)}) p ON p.person_id = r.person_id"
    )


def _partitions(spark: SparkSession) -> int:
    """:data:`MIN_PARTITIONS`, or one per :data:`PERSONS_PER_PARTITION` persons of the lake."""
    persons = int(spark.sql("SELECT count(*) AS n FROM persons").first()[0])  # type: ignore[index]
    return max(MIN_PARTITIONS, math.ceil(persons / PERSONS_PER_PARTITION))


def run_monthly(
    spark: SparkSession,
    lake: Lake,
    as_of: dt.date,
    *,
    known_at: dt.datetime | None = None,
    partitions: int | None = None,
) -> SparkRun:
    """Score every enrolled person of the lake as of ``as_of`` and write the run into it, the
    snapshots by the executors, ``partitions`` files (default :func:`_partitions`)."""
    from pyspark.sql.functions import xxhash64

    if partitions is not None and partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    job = _job(spark, lake, as_of, known_at)
    count = partitions or _partitions(spark)
    out = job.folder / "snapshots"
    # A rerun replaces its own output whole: no part of an earlier run with more partitions
    # (nor the one file runs wrote before decision 0813) is left to be read with it, and
    # until the new record is written there is none for `credo import` to find.
    (job.folder / "run.json").unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    (job.folder / "snapshots.parquet").unlink(missing_ok=True)
    out.mkdir(parents=True)
    assemble = _Assemble(job.pit, job.model, job.loaded, str(out), job.previous is not None)
    with stepped(spark, job.steps, job.folder / "steps") as features:
        rows = spark.sql(_per_person_sql(job, features))
        split = rows.withColumn(_KEY, xxhash64("person_id")).repartition(count, _KEY)
        by_person = split.sortWithinPartitions("person_id")
        reported = by_person.mapInArrow(assemble, _PART_SCHEMA).collect()
        parts = sorted((Part(**r.asDict()) for r in reported), key=lambda p: p.part)
        if not parts:  # no person at all: one empty file, with the snapshot columns
            empty = assemble_partition(
                job.pit, job.model, job.loaded, rows.limit(0).toArrow(),
                with_prior=job.previous is not None,
            )  # fmt: skip
            name = "part-00000.parquet"
            parts = [Part(name, 0, _write_part(empty, out / name, "driver"), "driver")]
    meta: dict[str, Any] = {
        "kind": "monthly",
        "engine": f"spark {spark.version}",
        "as_of": as_of.isoformat(),
        "known_at": job.pit.known_at.isoformat(),
        "model_id": job.model.model_id,
        "policy_file": lake.manifest.policy_file,
        "policy_digest": job.loaded.digest,
        "previous_run_id": job.previous,
        "lake_manifest": lake.manifest_digest,
        "partitions": count,
        "persons": sum(p.persons for p in parts),
        "snapshots": parts_digest([(p.part, p.digest) for p in parts]),
    }
    (job.folder / "run.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", "utf-8")
    return SparkRun(job.folder, meta, tuple(parts))


def scored_rows(
    spark: SparkSession, lake: Lake, as_of: dt.date, *, known_at: dt.datetime | None = None
) -> pa.Table:
    """The per-person rows a run's snapshots are made from (features and compiled points), in
    ``person_id`` order, collected to the driver: to check a small lake against DuckDB (tests,
    parity), never part of the run."""
    job = _job(spark, lake, as_of, known_at)
    with stepped(spark, job.steps, job.folder / "steps") as features:
        sql = scoring_query(job.model, features, dialect_name=SPARK.name)
        table: pa.Table = spark.sql(sql).toArrow()
    with suppress(OSError):
        job.folder.rmdir()  # unless a run is in it
    return table


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m credo.spark.monthly --lake DIR --as-of D [--known-at T] [--master M]``."""
    parser = argparse.ArgumentParser(prog="credo.spark.monthly", description=__doc__)
    parser.add_argument("--lake", required=True, type=Path, help="the lake folder")
    parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--known-at", type=dt.datetime.fromisoformat, default=None)
    parser.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    parser.add_argument(
        "--partitions", type=_positive, default=None,
        help=f"files of snapshots (default: {PERSONS_PER_PARTITION:,} persons each,"
        f" at least {MIN_PARTITIONS})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    lake = Lake.open(args.lake)
    spark = spark_session(args.master, app="credo-monthly")
    try:
        run = run_monthly(
            spark, lake, args.as_of, known_at=args.known_at, partitions=args.partitions
        )
    finally:
        spark.stop()
    print(run.folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
