"""The one SQL layer: what differs between engines (DuckDB, Spark), for all SQL Credo writes.

Features, the points-table compiler and policy regimes take a :class:`Dialect` (looked up with
:func:`dialect`) and write the same text for either engine. ``ident`` and ``literal`` are
DuckDB's, for the SQL only the embedded database runs (ingest, the store).
"""

from __future__ import annotations

from credo.sql.dialects import DIALECTS, DUCKDB, SPARK, Dialect, DuckDB, Spark, dialect

__all__ = [
    "DIALECTS",
    "DUCKDB",
    "SPARK",
    "Dialect",
    "DuckDB",
    "Spark",
    "dialect",
    "ident",
    "literal",
]

ident = DUCKDB.ident
literal = DUCKDB.literal
