"""``credo score-table --engine spark``: a Parquet table scored by Spark with the compiled SQL.

The points table's SQL is :func:`credo.models.sql.scoring_sql` in the Spark dialect over the
file as a temporary view; the checks before it are the DuckDB path's
(:func:`credo.models.files.check_scoring_input`). Spark writes a folder of Parquet parts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from credo.models._errors import DataError
from credo.models.files import check_scoring_input
from credo.models.reader import raw_types as table_columns
from credo.models.sql import scoring_sql
from credo.sql import SPARK

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from credo.models.table import ScorecardModel

__all__ = ["score_parquet"]

_VIEW = "credo_input"


def score_parquet(
    spark: SparkSession,
    model: ScorecardModel,
    file: Path,
    out_path: Path,
    keep: list[str] | None = None,
) -> int:
    """Score every row of the Parquet ``file`` into the folder ``out_path``; the row count."""
    if file.suffix.lower() != ".parquet":
        raise DataError(f"--engine spark scores Parquet files, got {str(file)!r}")
    if out_path.exists():
        raise DataError(f"{str(out_path)!r} exists", hint="Spark writes a new folder of parts")
    check_scoring_input(model, table_columns(file), file, keep)
    spark.read.parquet(str(file)).createOrReplaceTempView(_VIEW)
    sql = scoring_sql(model, _VIEW, dialect=SPARK.name)
    if keep is not None:
        kept = ", ".join(SPARK.ident(c) for c in dict.fromkeys(keep))
        sql = f"SELECT {kept}, score FROM ({sql}) s"
    spark.sql(sql).write.parquet(str(out_path))
    return int(spark.read.parquet(str(out_path)).count())
