"""Python functions Spark calls from SQL, run in its Python workers (so credo and DuckDB must be
installed where the executors run). Kept apart, without postponed annotations, because pyspark
reads a vectorised UDF's kind from its type hints at registration."""

import duckdb
import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa

__all__ = ["duckdb_jaro_winkler"]


def duckdb_jaro_winkler(left: pd.Series, right: pd.Series) -> pd.Series:
    """DuckDB's ``jaro_winkler_similarity`` over one Arrow batch: the very function the DuckDB
    run's comparisons call (credo.spark.identity says why no Spark one will do)."""
    batch = pa.table({"l": pa.array(left, pa.string()), "r": pa.array(right, pa.string())})
    with duckdb.connect() as con:
        con.register("credo_batch", batch)
        out = con.sql("SELECT jaro_winkler_similarity(l, r) AS s FROM credo_batch")
        column = out.to_arrow_table().column("s")
    return pd.Series(column.to_pylist(), dtype="float64")
