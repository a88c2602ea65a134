"""Named rows: read and write by column name, never by position.

A query's result is read as mappings (``one``, ``rows``) or as a single value (``value``), and a
row is written from a mapping (``insert``, as sqlite-utils' ``table.insert(dict)``), so a column
added to a table or a select list cannot shift what a caller reads or writes. ``registered``
lends an in-memory table (Arrow, pandas) to SQL under a name for the span of a ``with`` block.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

__all__ = ["insert", "insert_many", "one", "registered", "rows", "value"]

Params = Sequence[Any] | Mapping[str, Any] | None


def _names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [d[0] for d in con.description or ()]


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> list[dict[str, Any]]:
    """Every row of ``sql`` as a mapping from column name to value."""
    result = con.execute(sql, params or [])
    names = _names(result)
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> dict[str, Any] | None:
    """The first row of ``sql`` as a mapping, or ``None`` when there is none."""
    result = con.execute(sql, params or [])
    row = result.fetchone()
    names = _names(result)
    result.complete()  # the connection takes no other work while a result is unfinished
    return None if row is None else dict(zip(names, row, strict=True))


def value(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> Any:
    """The first column of the first row (``None`` when there is no row): counts, maxima."""
    result = con.execute(sql, params or [])
    row = result.fetchone()
    result.complete()  # the connection takes no other work while a result is unfinished
    return None if row is None else row[0]


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"


def insert(con: duckdb.DuckDBPyConnection, table: str, row: Mapping[str, Any]) -> None:
    """Insert one row given as ``{column: value}``; columns not named take their default."""
    con.execute(_insert_sql(table, list(row)), list(row.values()))


def insert_many(
    con: duckdb.DuckDBPyConnection, table: str, items: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows that all name the same columns, in one statement."""
    if not items:
        return
    columns = list(items[0])
    for i, item in enumerate(items):
        if list(item) != columns:
            raise ValueError(f"row {i} for {table} names {list(item)}, not {columns}")
    con.executemany(_insert_sql(table, columns), [list(item.values()) for item in items])


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, data: Any) -> Iterator[str]:
    """``data`` (an Arrow table, a pandas frame) readable in SQL as ``name`` inside the block,
    and unregistered on the way out, also when the block raises."""
    con.register(name, data)
    try:
        yield name
    finally:
        con.unregister(name)
