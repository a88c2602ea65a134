"""The Spark run computes the feature query step by step through Parquet (decision 0214):
each step once, read back as a view, and nothing of it left behind."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credo.features import Steps
from credo.spark.monthly import stepped

from .conftest import PANDAS_WARNING, Scored

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]


def _views(spark: SparkSession) -> set[str]:
    return {t.name for t in spark.catalog.listTables() if t.name.startswith("credo_step_")}


def test_each_step_is_read_back_from_its_files(spark: SparkSession, tmp_path: Path) -> None:
    """A later step and the final query read the earlier steps' views, not their SQL again:
    the plan of the final query scans files and holds no aggregate of the first step."""
    steps = Steps(
        (
            ("numbers", "  SELECT id AS n, id % 3 AS k FROM range(30)"),
            ("per_key", "  SELECT k, sum(n) AS total FROM numbers GROUP BY k"),
        ),
        "SELECT k, total FROM per_key ORDER BY k\n",
    )
    with stepped(spark, steps, tmp_path / "steps") as final:
        assert "credo_step_per_key_" in final
        (own,) = (tmp_path / "steps").iterdir()  # a folder of this run's own
        assert sorted(p.name for p in own.iterdir()) == ["numbers", "per_key"]
        frame = spark.sql(final)
        rows = [(r.k, r.total) for r in frame.collect()]
        plan = frame._jdf.queryExecution().optimizedPlan().toString()
        assert len(_views(spark)) == 2
    assert rows == [(0, 135), (1, 145), (2, 155)]
    assert "Range" not in plan and "Aggregate" not in plan  # read from Parquet, not recomputed
    assert _views(spark) == set() and not (tmp_path / "steps").exists()


def test_a_failing_step_leaves_no_views_or_files(spark: SparkSession, tmp_path: Path) -> None:
    from pyspark.errors import AnalysisException

    steps = Steps(
        (("numbers", "  SELECT id AS n FROM range(5)"), ("bad", "  SELECT no_such FROM numbers")),
        "SELECT * FROM bad\n",
    )
    with pytest.raises(AnalysisException), stepped(spark, steps, tmp_path / "steps"):
        pass
    assert _views(spark) == set() and not (tmp_path / "steps").exists()


def test_the_monthly_run_leaves_only_its_snapshots(both: Scored, spark: SparkSession) -> None:
    assert sorted(p.name for p in both.spark_folder.iterdir()) == ["run.json", "snapshots"]
    assert _views(spark) == set()
