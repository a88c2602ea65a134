"""The merchant categories counted as bits plus the values off the list (decision 0980) give
Spark the count DuckDB gives, and both ``count(DISTINCT ...)``'s."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb
import pytest

from credo.features import CATALOGUE, PointInTime
from credo.features.catalogue import MERCHANT_CATEGORIES, Ctx, _last_12m
from credo.sql import dialect

from .conftest import PANDAS_WARNING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]

PIT = PointInTime(dt.date(2026, 10, 31), dt.datetime(2026, 11, 1, 6, 0))
VALUES = [None, "gaming", "Grocery", "pet_care", *MERCHANT_CATEGORIES]


def test_spark_counts_the_categories_as_duckdb_and_count_distinct(spark: SparkSession) -> None:
    rows = [
        (
            i % 23,
            VALUES[(i * 7) % len(VALUES)],
            dt.datetime(2024, 6, 1) + dt.timedelta(days=i % 880),
        )
        for i in range(2000)
    ]
    feature = next(f for f in CATALOGUE if f.name == "spending_categories_12m")
    schema = "person_id INT, merchant_category STRING, occurred_at TIMESTAMP"
    spark.createDataFrame(rows, schema).createOrReplaceTempView("k")
    on_spark = {
        r[0]: r[1]
        for r in spark.sql(
            f"SELECT k.person_id, {feature.expression(Ctx(dialect('spark'), PIT))} AS n"
            " FROM k GROUP BY k.person_id"
        ).collect()
    }
    spark.catalog.dropTempView("k")
    con = duckdb.connect()
    con.execute(f"CREATE TABLE k ({schema.replace('STRING', 'VARCHAR')})")
    con.executemany("INSERT INTO k VALUES (?, ?, ?)", [list(r) for r in rows])
    c = Ctx(dialect("duckdb"), PIT)
    on_duckdb = dict(
        con.execute(f"SELECT k.person_id, {feature.expression(c)} FROM k GROUP BY 1").fetchall()
    )
    distinct = dict(
        con.execute(
            f"SELECT k.person_id, count(DISTINCT CASE WHEN {_last_12m(c)}"
            " THEN k.merchant_category END) FROM k GROUP BY 1"
        ).fetchall()
    )
    assert on_spark == on_duckdb == distinct and len(distinct) == 23
    assert max(distinct.values()) > len(MERCHANT_CATEGORIES)  # off-list values counted too
