"""What differs between engines in the SQL Credo writes: one class per engine.

Feature, points-table, regime and ingest SQL is written once; only the pieces below differ
between DuckDB (embedded, the default) and Spark (a population that outgrows one machine):
quoting, literals, dates, date arithmetic, JSON access, "value at the latest key", file
sources, dropping columns from ``*``, bit shifts and type names. The text is hand-written
rather than transpiled with sqlglot, so that the generated SQL stays exactly as snapshot-tested
(docs/decisions/0800-one-engines-layer.md).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from credo.errors import ConfigError

__all__ = ["DIALECTS", "DUCKDB", "SPARK", "Dialect", "DuckDB", "Spark", "dialect"]


class Dialect(ABC):
    """The SQL text one engine needs; everything else in the generated SQL is shared."""

    name: ClassVar[str]
    quote_char: ClassVar[str]
    text_type: ClassVar[str]

    def ident(self, name: str) -> str:
        """Quote an identifier; source column names can be anything, Hanzi and spaces too."""
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def literal(self, value: Any) -> str:
        """A SQL literal for a constant from a mapping or policy (never for row data)."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return repr(value)
        return self.string(str(value))

    def number(self, text: str) -> str:
        """A constant with a fraction (``1.0``) in arithmetic, so that it computes as DuckDB's:
        DuckDB averages and divides ``DECIMAL`` as ``DOUBLE``; an engine that would keep a
        rounded ``DECIMAL`` says ``DOUBLE`` instead."""
        return text

    def date(self, value: dt.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def timestamp(self, value: dt.datetime) -> str:
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"

    @abstractmethod
    def days_between(self, start: str, end: str) -> str:
        """Whole days from ``start`` to ``end`` (dates or timestamps), as an integer."""

    def months_between(self, start: str, end: str) -> str:
        """Whole months of 30.4375 days: the same integer on every engine."""
        return f"CAST(floor({self.days_between(start, end)} / 30.4375) AS BIGINT)"

    def month_key(self, timestamp: str) -> str:
        return f"(year({timestamp}) * 12 + month({timestamp}))"

    def shift_left(self, value: str, bits: str) -> str:
        return f"({value} << {bits})"

    @abstractmethod
    def distinct_where(self, value: str, condition: str) -> str:
        """``count(DISTINCT value)`` over the rows matching ``condition`` (0 if none), for a
        condition few rows meet: the few values are collected, the rest not hashed."""

    @abstractmethod
    def json_field(self, document: str, key: str) -> str:
        """The text at ``$.key`` of a JSON document."""

    @abstractmethod
    def arg_max(self, value: str, *keys: str) -> str:
        """``value`` of the row with the greatest ``keys`` (a tuple: ties broken by the next)."""

    def latest(self, value: str, at: str, event_id: str) -> str:
        """``value`` of the latest event: the greatest ``at`` (a timestamp), ties broken by the
        greater ``event_id``; :meth:`arg_max` of the two keys."""
        return self.arg_max(value, at, event_id)

    @abstractmethod
    def file_source(self, path: str) -> str:
        """A relation reading a Parquet file (``.parquet``) or else a CSV file."""

    def star_except(self, columns: list[str]) -> str | None:
        """``*`` without ``columns`` (quoted already), or None where the engine cannot say it."""
        return None


class DuckDB(Dialect):
    name = "duckdb"
    quote_char = '"'
    text_type = "VARCHAR"

    def days_between(self, start: str, end: str) -> str:
        return f"date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE))"

    def json_field(self, document: str, key: str) -> str:
        return f"json_extract_string({document}, {self.string('$.' + key)})"

    def arg_max(self, value: str, *keys: str) -> str:
        return f"arg_max({value}, row({', '.join(keys)}))"

    def latest(self, value: str, at: str, event_id: str) -> str:
        # One HUGEINT key ordered as the pair (at, event_id): the microseconds in the high 64
        # bits, the id offset by 2^63 into [0, 2^64) below them. A struct key made DuckDB keep
        # a sort key per row and group (the contacts' 7M groups at 100M events; decision 0815).
        key = f"epoch_us({at})::HUGEINT * 18446744073709551616"
        return f"arg_max({value}, {key} + ({event_id}::HUGEINT + 9223372036854775808))"

    def distinct_where(self, value: str, condition: str) -> str:
        # list() keeps NULLs and is NULL over no rows: the FILTER and the coalesce see to both.
        return f"coalesce(len(list_distinct(list({value}) FILTER (WHERE {condition}))), 0)"

    def file_source(self, path: str) -> str:
        reader = "read_parquet" if path.lower().endswith(".parquet") else "read_csv"
        return f"{reader}({self.string(path)})"

    def star_except(self, columns: list[str]) -> str:
        return f"* EXCLUDE ({', '.join(columns)})"


class Spark(Dialect):
    name = "spark"
    quote_char = "`"
    text_type = "STRING"

    def string(self, value: str) -> str:
        # Spark reads backslash escapes, and adjacent literals 'a''b' concatenate to 'ab'.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def days_between(self, start: str, end: str) -> str:
        return f"datediff(CAST({end} AS DATE), CAST({start} AS DATE))"

    def shift_left(self, value: str, bits: str) -> str:
        return f"shiftleft({value}, {bits})"

    def number(self, text: str) -> str:
        # Spark's avg(1.0, 0.0, 0.0) is DECIMAL 0.33333 and 37 / 12.0 a DECIMAL rounded to
        # 6 places; with the D suffix both are the DOUBLE that DuckDB computes.
        return f"{text}D"

    def json_field(self, document: str, key: str) -> str:
        return f"get_json_object({document}, {self.string('$.' + key)})"

    def arg_max(self, value: str, *keys: str) -> str:
        return f"max_by({value}, struct({', '.join(keys)}))"

    def distinct_where(self, value: str, condition: str) -> str:
        # collect_list skips NULLs and gives [] over no rows.
        return f"size(array_distinct(collect_list(CASE WHEN {condition} THEN {value} END)))"

    def file_source(self, path: str) -> str:
        fmt = "parquet" if path.lower().endswith(".parquet") else "csv"
        return f"{fmt}.{self.ident(path)}"


DUCKDB = DuckDB()
SPARK = Spark()
DIALECTS: dict[str, Dialect] = {d.name: d for d in (DUCKDB, SPARK)}


def dialect(name: str) -> Dialect:
    """The engine called ``name``; an unknown name is a configuration error naming the known."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ConfigError(
            f"unknown SQL dialect {name!r}", hint=f"use one of {', '.join(DIALECTS)}"
        ) from None
