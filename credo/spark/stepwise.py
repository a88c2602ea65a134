"""Runs a stepped query on Spark one step at a time, each step materialised once, timing it.

Given the feature query as one text, Spark inlines every CTE where it is read: the latest
corrections were computed once per event-type pass (eight times), and Catalyst optimised one
plan of some 30 scans and 40 shuffles (44 s of planning alone on the loaded 2-core box, before
any row was read). Run as :func:`credo.scoring.runner.stepwise` runs it on DuckDB, each step is
the same SQL reading the earlier steps' stored rows: small plans, each step computed once. The
rows are the same, since each step is the same SQL (``tests/spark/test_parity.py``).

A step is kept with ``persist(MEMORY_AND_DISK)`` and counted, not checkpointed: on a cluster a
lost executor's blocks are recomputed from the step's lineage instead of failing the job.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from credo.features import Steps

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["spark_stepwise"]

log = logging.getLogger(__name__)


@contextmanager
def spark_stepwise(
    spark: SparkSession, query: Steps, timings: dict[str, float] | None = None
) -> Iterator[str]:
    """Store every step of ``query`` (persisted, as a temporary view), in order, and yield the
    final query reading them; ``timings`` receives each step's seconds. Views and stored rows
    are dropped on exit."""
    from pyspark import StorageLevel

    tag = uuid.uuid4().hex[:8]  # two runs in one session never share a view
    tables: dict[str, str] = {}
    frames: list[DataFrame] = []
    try:
        for name, _ in query.steps:
            view = f"credo_step_{name}_{tag}"
            start = time.perf_counter()
            frame = spark.sql(query.upto(name).sql(tables))
            frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
            frames.append(frame)
            frame.count()  # computes and stores the step now, once
            frame.createOrReplaceTempView(view)
            tables[name] = view
            seconds = time.perf_counter() - start
            if timings is not None:
                timings[name] = seconds
            log.info("spark step %s: %.2f s", name, seconds)
        yield query.sql(tables)
    finally:
        for view in tables.values():
            spark.catalog.dropTempView(view)
        for frame in frames:
            frame.unpersist()
