"""Identity resolution's pair scoring on Spark: Splink's Spark backend, the same trained model.

The Fellegi–Sunter model is one JSON document (:mod:`credo.identity.linkage`): its comparison
levels and blocking rules are SQL conditions written for DuckDB. :func:`spark_model` rewrites
each condition for Spark with sqlglot (``strftime`` becomes ``date_format``, ``ends_with``
``endswith``, ``jaro_winkler_similarity`` DuckDB's own function called from Spark, see
``_SPARK_NAMES``) and changes nothing else: the same levels, the same m and u probabilities, the
same blocking rules. :func:`predict_pairs_on_spark` scores every blocked pair on Spark and
hands the pairs to the linkage connection as :data:`credo.identity.linkage.PAIRS_TABLE`, the
table the DuckDB prediction writes; from there the constraints, the clustering, the reviews
and the write are the DuckDB run's own code (``resolve(score_pairs=spark_pair_scorer(session))``;
docs/decisions/0812-identity-resolution-on-spark.md).

Training stays on DuckDB: it reads samples of bounded size (``u_max_pairs``, ``em_max_pairs``),
and Splink samples differently on each backend, so a model trained on Spark would be another
model, and other persons.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import sqlglot

from credo.identity.linkage import COMPARISONS, PAIRS_TABLE
from credo.store.rows import registered, value

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "predict_pairs_on_spark",
    "register_similarity",
    "spark_condition",
    "spark_model",
    "spark_pair_scorer",
]

# Three Jaro-Winklers disagree: Spark 4.3's built-in adds the Winkler boost below a Jaro of 0.7
# ("wei long" / "wei jia": 0.814 against DuckDB's 0.690), Splink's jar (Apache Commons) and
# DuckDB count matches differently ("zhang qiangbin" / "zhang binbin": 0.913 against 0.922),
# each across a level's threshold. So Spark calls DuckDB's own function, a vectorised UDF.
_SPARK_NAMES = {"JAROWINKLER_SIMILARITY": "credo_jaro_winkler"}


def register_similarity(spark: SparkSession) -> None:
    """``credo_jaro_winkler(a, b)``: DuckDB's Jaro-Winkler, as a Spark SQL function."""
    from pyspark.sql.functions import pandas_udf  # type: ignore[attr-defined]

    from credo.spark._udfs import duckdb_jaro_winkler

    spark.udf.register("credo_jaro_winkler", pandas_udf(duckdb_jaro_winkler, "double"))


def spark_condition(sql: str) -> str:
    """A DuckDB SQL condition of the model, written for Spark SQL."""
    if sql.strip().upper() == "ELSE":
        return sql
    text: str = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
    for name, spark_name in _SPARK_NAMES.items():
        text = re.sub(rf"\b{name}\b", spark_name, text)
    return text


def spark_model(model: dict[str, Any]) -> dict[str, Any]:
    """The model with its SQL written for Spark; levels, weights and rules otherwise as they
    are (a copy: the stored model is not changed)."""
    out = copy.deepcopy(model)
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = spark_condition(level["sql_condition"])
            if "sql_dialect" in level:
                level["sql_dialect"] = "spark"
    rules = []
    for rule in out["blocking_rules_to_generate_predictions"]:
        text = rule["blocking_rule"] if isinstance(rule, dict) else str(rule)
        rules.append({"blocking_rule": spark_condition(text), "sql_dialect": "spark"})
    out["blocking_rules_to_generate_predictions"] = rules
    out["sql_dialect"] = "spark"
    out.pop("linker_uid", None)
    return out


def _pairs_schema() -> pa.Schema:
    weights = [pa.field(f"mw_{c.name}", pa.float64()) for c in COMPARISONS]
    return pa.schema(
        [
            pa.field("a", pa.int32()),
            pa.field("b", pa.int32()),
            pa.field("match_weight", pa.float64()),
            *weights,
        ]
    )


def spark_pair_scorer(
    spark: SparkSession, *, break_lineage: str = "persist"
) -> Callable[[duckdb.DuckDBPyConnection, pa.Table, dict[str, Any], float], int]:
    """The pair scorer ``credo.identity.resolution.resolve(score_pairs=...)`` takes: the
    blocked pairs scored on ``spark``, the rest of the run on DuckDB."""

    def score(
        con: duckdb.DuckDBPyConnection, records: pa.Table, model: dict[str, Any], weight: float
    ) -> int:
        return predict_pairs_on_spark(
            spark, con, records, model, weight, break_lineage=break_lineage
        )

    return score


def predict_pairs_on_spark(
    spark: SparkSession,
    con: duckdb.DuckDBPyConnection,
    records: pa.Table,
    model: dict[str, Any],
    min_weight: float,
    *,
    break_lineage: str = "persist",
) -> int:
    """Score every blocked pair of ``records`` (:func:`credo.identity.records.linkage_frame`'s
    rows) at ``min_weight`` or above on Spark, into ``PAIRS_TABLE`` of ``con``; the count.
    ``break_lineage`` is Splink's ``break_lineage_method`` (``"parquet"`` on a cluster with a
    checkpoint folder; ``"persist"`` keeps Splink's steps in executor memory).

    Pairs are kept by record index, as :func:`credo.identity.linkage.predict_pairs` keeps them,
    so the clustering reads the same table whichever engine scored it."""
    import logging

    from splink import Linker, SparkAPI

    register_similarity(spark)
    indexed = records.append_column("idx", pa.array(range(records.num_rows), pa.int32()))
    frame = spark.createDataFrame(indexed)
    api = SparkAPI(  # type: ignore[no-untyped-call]
        spark_session=spark, break_lineage_method=break_lineage, register_udfs_automatically=False
    )
    linker = Linker(api.register(frame), spark_model(model), log_level=logging.ERROR)
    predictions = linker.inference.predict(threshold_match_weight=min_weight)
    frame.createOrReplaceTempView("credo_spark_records")
    present = set(predictions.as_spark_dataframe().columns)
    # Splink leaves out a comparison whose every level weighs the same (a column all blank)
    weights = ", ".join(
        f"p.mw_{c.name}" if f"mw_{c.name}" in present else f"CAST(0.0 AS DOUBLE) AS mw_{c.name}"
        for c in COMPARISONS
    )
    pairs = spark.sql(
        "SELECT least(l.idx, r.idx) AS a, greatest(l.idx, r.idx) AS b, p.match_weight, "
        f"{weights} FROM {predictions.physical_name} p "
        "JOIN credo_spark_records l ON l.record_id = p.record_id_l "
        "JOIN credo_spark_records r ON r.record_id = p.record_id_r"
    ).toArrow()
    pairs = pairs.cast(_pairs_schema())
    predictions.drop_table_from_database_and_remove_from_cache()
    spark.catalog.dropTempView("credo_spark_records")
    # The linkage connection holds what the DuckDB prediction leaves there: the records by
    # index (``credo_records``, read by the clustering's explanations) and the pairs.
    with registered(con, "credo_spark_pairs", pairs), registered(con, "credo_indexed", indexed):
        con.execute("CREATE OR REPLACE TABLE credo_records AS SELECT * FROM credo_indexed")
        con.execute(f"CREATE OR REPLACE TABLE {PAIRS_TABLE} AS SELECT * FROM credo_spark_pairs")
    return int(value(con, f"SELECT count(*) FROM {PAIRS_TABLE}"))
