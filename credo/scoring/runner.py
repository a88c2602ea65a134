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

:func:`pass_splits` says where to cut a pass whose events would not fit in one in-memory hash
table under the connection's memory limit (decision 0816): an external join spills and loses
the filter that lets the scan of ``event_persons`` skip other types' links.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb

from credo.features import Steps
from credo.store.db import memory_limit_bytes
from credo.store.schema import EVENT_TABLES

__all__ = ["MAX_PASS_PARTS", "PASS_ROW_BYTES", "memory_limit_bytes", "pass_splits", "stepwise"]

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


PASS_ROW_BYTES = 200
"""Memory one event of a pass may take, against the connection's memory limit: its row in
the join's hash table (~120 bytes for the bills and payments passes, measured: 4M bills fit
in 500 MB, not in 400 MB) with room for the pass's ``GROUP BY`` and the threads' buffers."""

#: The most parts a pass is read in: past this a part spills, which costs time, not rows.
MAX_PASS_PARTS = 16


def pass_splits(
    con: duckdb.DuckDBPyConnection, event_types: Iterable[str]
) -> dict[str, tuple[int, ...]]:
    """Per event type whose table holds more events than fit, at :data:`PASS_ROW_BYTES` each,
    in the memory limit: the event ids cutting ``[min, max]`` of its ids into that many equal
    ranges, at most :data:`MAX_PASS_PARTS` (``feature_steps``'s ``splits``). Types that fit are
    left out, so a small population's run is the one query it was. Any cuts give the same
    rows; equal ranges of ids keep the parts about equal where ids grow with loading."""
    limit = memory_limit_bytes(con)
    splits: dict[str, tuple[int, ...]] = {}
    for event_type in event_types:
        table = EVENT_TABLES[event_type]
        row = con.execute(
            "SELECT estimated_size FROM duckdb_tables()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND table_name = ?",
            [table],
        ).fetchone()
        rows = int(row[0]) if row else 0
        parts = min(MAX_PASS_PARTS, math.ceil(rows * PASS_ROW_BYTES / limit))
        if parts < 2:
            continue
        bounds = con.execute(f"SELECT min(event_id), max(event_id) FROM {table}").fetchone()
        if bounds is None or bounds[0] is None:
            continue
        lo, hi = int(bounds[0]), int(bounds[1])
        cuts = sorted({lo + (hi - lo + 1) * i // parts for i in range(1, parts)} - {lo})
        if cuts:
            splits[event_type] = tuple(cuts)
    return splits
