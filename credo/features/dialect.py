"""What differs between engines in feature SQL; everything else in the generated text is shared.

The same catalogue runs on DuckDB (the default, embedded) and Spark (a population that outgrows
one machine). Only date arithmetic, JSON access, "value at the latest key" and type names differ;
they live here, one class per engine, as :mod:`credo.models.sql` does for the points table.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass

from credo.errors import ConfigError

__all__ = ["DIALECTS", "Dialect", "dialect"]


@dataclass(frozen=True)
class Dialect(ABC):
    name: str
    text_type: str

    def date(self, value: dt.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def timestamp(self, value: dt.datetime) -> str:
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"

    def string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    @abstractmethod
    def days_between(self, start: str, end: str) -> str:
        """Each engine says it its own way."""

    @abstractmethod
    def json_field(self, document: str, key: str) -> str:
        """Each engine says it its own way."""

    @abstractmethod
    def arg_max(self, value: str, *keys: str) -> str:
        """``value`` of the row with the greatest ``keys`` (a tuple: ties broken by the next)."""

    def months_between(self, start: str, end: str) -> str:
        """Whole months of 30.4375 days: the same integer on every engine."""
        return f"CAST(floor({self.days_between(start, end)} / 30.4375) AS BIGINT)"

    def month_key(self, timestamp: str) -> str:
        return f"(year({timestamp}) * 12 + month({timestamp}))"

    def shift_left(self, value: str, bits: str) -> str:
        return f"({value} << {bits})"


class _DuckDB(Dialect):
    def days_between(self, start: str, end: str) -> str:
        return f"date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE))"

    def json_field(self, document: str, key: str) -> str:
        return f"json_extract_string({document}, {self.string('$.' + key)})"

    def arg_max(self, value: str, *keys: str) -> str:
        return f"arg_max({value}, row({', '.join(keys)}))"


class _Spark(Dialect):
    def string(self, value: str) -> str:
        # Spark reads backslash escapes, and adjacent literals 'a''b' concatenate to 'ab'.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def days_between(self, start: str, end: str) -> str:
        return f"datediff(CAST({end} AS DATE), CAST({start} AS DATE))"

    def json_field(self, document: str, key: str) -> str:
        return f"get_json_object({document}, {self.string('$.' + key)})"

    def arg_max(self, value: str, *keys: str) -> str:
        return f"max_by({value}, struct({', '.join(keys)}))"

    def shift_left(self, value: str, bits: str) -> str:
        return f"shiftleft({value}, {bits})"


DIALECTS: dict[str, Dialect] = {
    "duckdb": _DuckDB("duckdb", "VARCHAR"),
    "spark": _Spark("spark", "STRING"),
}


def dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ConfigError(
            f"unknown SQL dialect {name!r}", hint=f"use one of {', '.join(DIALECTS)}"
        ) from None
