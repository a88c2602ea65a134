"""``score-table`` on Spark: the compiled SQL gives every row DuckDB's points."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from credo.models._errors import DataError
from credo.models.files import score_file
from credo.models.table import ScorecardModel
from credo.spark.parity import bits
from credo.spark.table import score_parquet

from .conftest import PANDAS_WARNING, Scored, as_number

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]


def test_a_parquet_table_scores_as_in_duckdb(
    both: Scored, spark: SparkSession, tmp_path: Path
) -> None:
    model = ScorecardModel.load(both.lake.model_file)
    features = both.duckdb_features.select(["person_id", *model.features])
    pq.write_table(features, tmp_path / "features.parquet")
    rows = score_parquet(spark, model, tmp_path / "features.parquet", tmp_path / "spark")
    score_file(model, tmp_path / "features.parquet", tmp_path / "duck.parquet")
    duck = pq.read_table(tmp_path / "duck.parquet").sort_by("person_id")
    spark_rows = pq.read_table(tmp_path / "spark").sort_by("person_id")
    assert rows == duck.num_rows == features.num_rows
    assert spark_rows.column_names == duck.column_names
    for name in duck.column_names:
        expected = [bits(as_number(v)) for v in duck.column(name).to_pylist()]
        assert [bits(as_number(v)) for v in spark_rows.column(name).to_pylist()] == expected, name
    kept = score_parquet(
        spark, model, tmp_path / "features.parquet", tmp_path / "kept", ["person_id"]
    )
    assert kept == rows
    assert pq.read_table(tmp_path / "kept").column_names == ["person_id", "score"]


def test_a_table_without_a_feature_is_refused_naming_it(
    both: Scored, spark: SparkSession, tmp_path: Path
) -> None:
    model = ScorecardModel.load(both.lake.model_file)
    features = both.duckdb_features.select(["person_id", *model.features[1:]])
    pq.write_table(features, tmp_path / "features.parquet")
    with pytest.raises(DataError, match=model.features[0]):
        score_parquet(spark, model, tmp_path / "features.parquet", tmp_path / "out")
    assert not (tmp_path / "out").exists()
