"""The Spark run's Python step runs per partition of persons on the executors, which write the
snapshots; the driver never holds the persons' rows (decision 0813)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.features import PointInTime, listings_sql
from credo.policy.rules import active_rules
from credo.scoring.policy_rules import resolve_policy
from credo.scoring.registry import load_model
from credo.scoring.runs import latest_known_at, previous_run
from credo.scoring.snapshots import _prior_scores
from credo.settings import Settings
from credo.spark.lake import Lake, read_snapshots, snapshot_parts
from credo.spark.monthly import _LISTINGS, _PRIOR, assemble_partition, run_monthly
from credo.spark.parity import compare_snapshots
from credo.store.db import Store

from .conftest import END, PANDAS_WARNING, Scored

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]

FIELDS = ("listed_on", "court", "case_number")


def _hash_partition(spark: SparkSession, persons: list[str], count: int) -> dict[str, int]:
    """The partition Spark's hash partitioning by the run's split key, ``xxhash64(person_id)``,
    sends each person to (``pmod(hash(key), n)``)."""
    frame = spark.createDataFrame([(p,) for p in persons], "person_id STRING")
    found = frame.selectExpr("person_id", f"pmod(hash(xxhash64(person_id)), {count}) AS k")
    found = found.collect()
    return {r.person_id: r.k for r in found}


def test_each_partition_s_persons_are_written_by_an_executor(
    both: Scored, spark: SparkSession, tmp_path: Path
) -> None:
    """Split into 3 partitions, the run writes one file per partition, holding exactly the
    persons Spark hashed there, sorted, written by a Python worker, not by this (the driver's)
    process; the rows are DuckDB's, bit for bit, and the driver got one line per file."""
    shutil.copytree(both.lake.root, tmp_path / "lake", ignore=shutil.ignore_patterns("runs"))
    run = run_monthly(spark, Lake.open(tmp_path / "lake"), END, partitions=3)
    parts = snapshot_parts(run.folder / "snapshots")
    assert [p.name for p in parts] == [f"part-{k:05d}.parquet" for k in range(3)]
    assert [p.part for p in run.parts] == [p.name for p in parts]
    assert run.meta["partitions"] == 3 and run.meta["persons"] == both.duckdb.num_rows
    driver = os.getpid()
    assert all(int(p.written_by.rsplit(":", 1)[1]) != driver for p in run.parts)
    where = _hash_partition(spark, both.duckdb["person_id"].to_pylist(), 3)
    for k, path in enumerate(parts):
        persons = pq.read_table(path)["person_id"].to_pylist()
        assert persons == sorted(persons) and len(persons) > 50
        assert {where[p] for p in persons} == {k}
    assert compare_snapshots(both.duckdb, read_snapshots(run.folder / "snapshots")) == []


def test_the_default_split_is_several_partitions(both: Scored) -> None:
    """The suite's run (400 persons) went through the per-partition step on 8 partitions."""
    import json

    meta = json.loads((both.spark_folder / "run.json").read_text("utf-8"))
    parts = snapshot_parts(both.spark_folder / "snapshots")
    assert meta["partitions"] == 8 and len(parts) == 8
    assert sum(pq.read_metadata(p).num_rows for p in parts) == meta["persons"]


def _joined_rows(both: Scored) -> pa.Table:
    """DuckDB's scored rows with each person's listings (in reverse of their order) and previous
    score beside them, as Spark joins them for the per-partition step."""
    with Store.open(Settings(db=both.db)) as store:
        pit = PointInTime(END, latest_known_at(store), 7)
        grace = active_rules(store.settings).court_list.grace_months
        listed = store.con.sql(listings_sql(pit, grace_months=grace)).to_arrow_table()
        prior = _prior_scores(store, previous_run(store, END, resolve_policy(None).name), "")
    assert prior is not None
    scored = both.duckdb_features
    persons = scored["person_id"].to_pylist()
    lists: dict[str, list[dict[str, object]]] = {p: [] for p in persons}
    for row in listed.to_pylist():
        if row["person_id"] in lists:
            lists[row["person_id"]].insert(
                0, {k: row[k] for k in ("listed_on", "court", "case_number")}
            )
    kind = pa.list_(
        pa.struct(
            [("listed_on", pa.date32()), ("court", pa.string()), ("case_number", pa.string())]
        )
    )
    scores = dict(zip(prior["person_id"].to_pylist(), prior["score"].to_pylist(), strict=True))
    return scored.append_column(
        _LISTINGS, pa.array([lists[p] or None for p in persons], kind)
    ).append_column(_PRIOR, pa.array([scores.get(p) for p in persons], pa.float64()))


@settings(max_examples=12, deadline=None)
@given(groups=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_any_split_of_persons_gives_duckdbs_rows(both: Scored, groups: int, seed: int) -> None:
    """Nothing in the Python step is over the population: persons dealt at random into any
    number of groups (some may be empty), each assembled alone, give DuckDB's snapshots bit for
    bit, listings in DuckDB's order though given reversed."""
    rows = _joined_rows(both)
    with Store.open(Settings(db=both.db)) as store:
        model = load_model(store)
    loaded = resolve_policy(None)
    pit = PointInTime(END, both.lake.manifest.known_at, 7)
    dealt = pa.array(np.random.default_rng(seed).integers(0, groups, size=rows.num_rows))
    parts = [
        assemble_partition(pit, model, loaded, rows.filter(pc.equal(dealt, g)), with_prior=True)
        for g in range(groups)
    ]
    assert all(p.schema == both.duckdb.schema for p in parts)
    assert compare_snapshots(both.duckdb, pa.concat_tables(parts)) == []
    # No person at all (the run writes one such file when the population is empty).
    empty = assemble_partition(pit, model, loaded, rows.slice(0, 0), with_prior=True)
    assert empty.num_rows == 0 and empty.schema == both.duckdb.schema


def test_a_person_s_listings_come_back_in_duckdbs_order(both: Scored) -> None:
    """``collect_list`` keeps no order; the step sorts a person's listings as DuckDB's
    ``ORDER BY listed_on, court, case_number`` does (``NULL`` last). The test population has
    no person with two listings, so one is given three, out of order."""
    with Store.open(Settings(db=both.db)) as store:
        model = load_model(store)
    row = _joined_rows(both).slice(0, 1)
    listings = [
        {"listed_on": None, "court": "A", "case_number": "9"},
        {"listed_on": dt.date(2026, 3, 1), "court": "A", "case_number": "1"},
        {"listed_on": dt.date(2026, 1, 1), "court": "B", "case_number": "2"},
        {"listed_on": dt.date(2026, 1, 1), "court": "A", "case_number": "3"},
    ]
    kind = row.schema.field(_LISTINGS).type
    row = row.set_column(
        row.schema.get_field_index(_LISTINGS), _LISTINGS, pa.array([listings], kind)
    )
    pit = PointInTime(END, both.lake.manifest.known_at, 7)
    out = assemble_partition(pit, model, resolve_policy(None), row, with_prior=True)
    assert out["court_listings"].to_pylist() == [["A | 3", "B | 2", "A | 1", "A | 9"]]
