"""The Spark session Credo's jobs run in: the settings that make Spark read the SQL as DuckDB does.

- Time zone UTC and ``TIMESTAMP`` meaning ``TIMESTAMP_NTZ``: the store's timestamps carry no
  zone, DuckDB writes them to Parquet as local (not UTC-adjusted) times, and the feature SQL's
  ``TIMESTAMP '...'`` literals must compare with them as wall-clock values, as in DuckDB.
- Partition folders (``month=2026-01``, ``run_id=...``) are read as text, never guessed dates.

``master`` is given for a local run (``local[2]``); under ``spark-submit`` it is left to the
cluster's settings, so the job is the same code in both places.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["SETTINGS", "spark_session"]

SETTINGS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}

_LOCAL: dict[str, str] = {
    # A local session serves one driver process: no UI port, few shuffle partitions.
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": "2g",
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(master: str | None = None, *, app: str = "credo") -> SparkSession:
    """A session with :data:`SETTINGS` (and, given ``master``, a local one's settings)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    settings = dict(SETTINGS)
    if master is not None:
        builder = builder.master(master)
        settings.update(_LOCAL)
        # Python workers (identity resolution's Jaro-Winkler) run this interpreter, with
        # Credo's packages, not whichever python3 is first on the PATH (pyspark reads the
        # variable, not a setting, when it starts the context).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
