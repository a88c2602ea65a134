"""Runs a stepped query one step at a time, each into a temporary table, logging its time.

Given one query, DuckDB may run independent pipelines side by side: the monthly features' one
pass per event type (payments, bills, ...) each builds a hash table of that type's events, and
together they held more than the memory limit (out of memory at 3 GB and at 6 GB over 100M
events, where each pass alone fits in 3 GB). Stored step by step, the engine holds one pass at
a time; the rows are the same, since each step is the same SQL, only read back from a table.

The steps a query marks ``as_written`` run with DuckDB's join-order optimizer off, so their
joins run in the order the SQL gives. It estimated ``role = 'subject'`` at half of
``event_persons`` and so, for the bills pass, built its hash table on every link (100M at 100M
events) instead of the bills (decision 0814). The plan changes; the rows do not.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from credo.features import Steps

__all__ = ["stepwise"]

log = logging.getLogger(__name__)


@contextmanager
def _written_order(con: duckdb.DuckDBPyConnection, on: bool) -> Iterator[None]:
    """Within: DuckDB keeps the joins in the order written (``on``), then the setting the
    connection had is put back, whatever happens."""
    if not on:
        yield
        return
    row = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
    before = str(row[0]) if row and row[0] is not None else ""
    names = [n.strip() for n in before.split(",") if n.strip()]
    con.execute("SET disabled_optimizers = ?", [", ".join([*names, "join_order"])])
    try:
        yield
    finally:
        con.execute("SET disabled_optimizers = ?", [before])


@contextmanager
def stepwise(con: duckdb.DuckDBPyConnection, query: Steps) -> Iterator[str]:
    """Store every step of ``query`` in a temporary table, in order, and yield the final
    query reading them; the tables are dropped on exit."""
    tag = uuid.uuid4().hex[:8]  # two runs on one connection never share a table
    tables: dict[str, str] = {}
    try:
        for name, _ in query.steps:
            table = f"credo_step_{name}_{tag}"
            start, cpu = time.perf_counter(), time.process_time()
            with _written_order(con, name in query.as_written):
                con.execute(f"CREATE TEMP TABLE {table} AS\n{query.upto(name).sql(tables)}")
            tables[name] = table
            # CPU seconds of all the process's threads: on a shared machine the wall time of a
            # step counts its wait for a core too.
            log.info(
                "step %s: %.2f s, %.2f CPU s",
                name,
                time.perf_counter() - start,
                time.process_time() - cpu,
            )
        yield query.sql(tables)
    finally:
        for table in tables.values():
            con.execute(f"DROP TABLE IF EXISTS {table}")
