"""The Spark run's steps: each stored once, the same rows as the one query, and the hook a gate
uses before anything is written."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from credo.features import Steps
from credo.spark.parity import compare_snapshots
from credo.spark.stepwise import spark_stepwise

from .conftest import PANDAS_WARNING, Scored

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]

STEPS = Steps(
    (
        ("base", "  SELECT id AS person_id, id % 3 AS k FROM range(10)"),
        ("twice", "  SELECT person_id, k * 2 AS k2 FROM base WHERE k > 0"),
        ("counted", "  SELECT k2, count(*) AS n FROM twice GROUP BY k2"),
    ),
    "SELECT t.person_id, t.k2, c.n FROM twice t JOIN counted c ON c.k2 = t.k2 ORDER BY 1\n",
)


def test_steps_stored_one_by_one_give_the_rows_of_the_one_query(spark: SparkSession) -> None:
    whole = spark.sql(STEPS.sql()).collect()
    timings: dict[str, float] = {}
    with spark_stepwise(spark, STEPS, timings) as final:
        assert "range(10)" not in final  # the final query reads the stored steps
        views = {t.name for t in spark.catalog.listTables() if t.name.startswith("credo_step_")}
        assert len(views) == 3
        stepped = spark.sql(final).collect()
    assert stepped == whole
    assert [(r.person_id, r.k2, r.n) for r in stepped][:2] == [(1, 2, 3), (2, 4, 3)]
    assert list(timings) == ["base", "twice", "counted"]
    left = {t.name for t in spark.catalog.listTables() if t.name.startswith("credo_step_")}
    assert not left & views  # dropped on exit


def test_a_failing_step_drops_the_steps_before_it(spark: SparkSession) -> None:
    broken = Steps((*STEPS.steps[:2], ("bad", "  SELECT nothing FROM twice")), "SELECT 1")
    before = {t.name for t in spark.catalog.listTables()}
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException, match="nothing"), spark_stepwise(spark, broken):
        pass
    assert {t.name for t in spark.catalog.listTables()} == before


def test_the_gate_sees_the_snapshots_before_they_are_written(both: Scored) -> None:
    written = pq.read_table(both.spark_folder / "snapshots.parquet")
    assert both.runs_when_gated == []
    assert compare_snapshots(both.gate_saw, written) == []
    assert both.gate_saw.num_rows == written.num_rows > 300


def test_the_run_times_every_feature_step(both: Scored) -> None:
    steps = ["corrections", "consents", "activity", "edges", "network", "population"]
    assert set(steps) <= set(both.timings)
    assert {"points table", "assemble (Python)", "write"} <= set(both.timings)
    assert all(seconds >= 0 for seconds in both.timings.values())
