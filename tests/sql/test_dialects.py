"""The engines layer: every engine's literals read back as what was written, in DuckDB itself,
and by Spark's escaping rules where no Spark runs here; one error for an unknown engine."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.errors import ConfigError
from credo.sql import DIALECTS, DUCKDB, SPARK, dialect, ident, literal

#: Text a source file may hold: Hanzi, quotes of both kinds, backslashes, newlines, emoji.
TRICKY = st.text(
    alphabet=st.one_of(st.sampled_from("'\"`\\\n\t 信用分張"), st.characters(codec="utf-8")),
    max_size=30,
)


@cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One connection for every example: connecting is most of an example's time."""
    return duckdb.connect()


def _one(sql: str) -> object:
    return _duckdb().execute(f"SELECT {sql}").fetchall()[0][0]


def _spark_unquote(text: str) -> str:
    """A Spark string literal read as Spark reads it: a backslash escapes the next character."""
    assert text.startswith("'") and text.endswith("'")
    body = text[1:-1]
    assert re.search(r"(?<!\\)(?:\\\\)*'", body) is None, "an unescaped quote ends the literal"
    return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)


def test_dialect_looks_up_each_engine_by_its_name() -> None:
    assert dialect("duckdb") is DUCKDB and dialect("spark") is SPARK
    assert {name: d.name for name, d in DIALECTS.items()} == {"duckdb": "duckdb", "spark": "spark"}
    assert (DUCKDB.text_type, SPARK.text_type) == ("VARCHAR", "STRING")


def test_an_unknown_engine_is_a_config_error_naming_the_known() -> None:
    with pytest.raises(ConfigError, match="unknown SQL dialect 'oracle'") as raised:
        dialect("oracle")
    assert raised.value.hint == "use one of duckdb, spark"


def test_ident_and_literal_are_duckdbs() -> None:
    assert ident('a "b"') == DUCKDB.ident('a "b"') == '"a ""b"""'
    assert literal("it's") == DUCKDB.literal("it's") == "'it''s'"


@settings(deadline=None)  # DuckDB's first queries plan slowly on a busy machine
@given(TRICKY)
def test_a_string_literal_round_trips_through_duckdb(text: str) -> None:
    assert _one(DUCKDB.string(text)) == text
    assert _one(DUCKDB.literal(text)) == text


@given(TRICKY)
def test_a_spark_string_literal_reads_back_by_sparks_escaping(text: str) -> None:
    assert _spark_unquote(SPARK.string(text)) == text
    assert SPARK.literal(text) == SPARK.string(text)


@settings(deadline=None)  # DuckDB's first queries plan slowly on a busy machine
@given(TRICKY.filter(bool))
def test_an_identifier_round_trips_through_duckdb(name: str) -> None:
    con = _duckdb()
    con.execute(f"SELECT 1 AS {DUCKDB.ident(name)}")
    assert con.description is not None and con.description[0][0] == name


@given(TRICKY.filter(bool))
def test_a_spark_identifier_doubles_its_backticks(name: str) -> None:
    quoted = SPARK.ident(name)
    assert quoted[0] == quoted[-1] == "`"
    assert quoted[1:-1].replace("``", "") == name.replace("`", "")
    assert quoted[1:-1].replace("``", "`") == name


@settings(deadline=None)  # DuckDB's first queries plan slowly on a busy machine
@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
    )
)
def test_a_value_literal_round_trips_through_duckdb(value: bool | int | float | None) -> None:
    got = _one(DUCKDB.literal(value))
    if isinstance(value, float):
        # Written as its shortest repr, DuckDB reads a DECIMAL (or a DOUBLE with an exponent)
        # holding exactly that text, which reads back as the same double.
        assert isinstance(got, Decimal | float) and float(got) == value
    else:
        assert got == value and type(got) is type(value)
    assert SPARK.literal(value) == DUCKDB.literal(value)


@settings(deadline=None)  # DuckDB's first queries plan slowly on a busy machine
@given(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1)))
def test_dates_and_timestamps_round_trip_through_duckdb(moment: dt.datetime) -> None:
    assert _one(DUCKDB.timestamp(moment)) == moment
    assert _one(DUCKDB.date(moment.date())) == moment.date()
    assert SPARK.timestamp(moment) == DUCKDB.timestamp(moment)


@settings(deadline=None)  # DuckDB's first queries plan slowly on a busy machine
@given(st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)), st.integers(-4000, 4000))
def test_date_arithmetic_in_duckdb(start: dt.date, days: int) -> None:
    end = start + dt.timedelta(days=days)
    a, b = DUCKDB.date(start), DUCKDB.date(end)
    assert _one(DUCKDB.days_between(a, b)) == days
    assert _one(DUCKDB.months_between(a, b)) == days // 30.4375
    assert _one(DUCKDB.month_key(a)) == start.year * 12 + start.month
    assert _one(DUCKDB.shift_left("CAST(1 AS BIGINT)", "5")) == 32


def test_spark_says_the_same_its_own_way() -> None:
    assert SPARK.days_between("a", "b") == "datediff(CAST(b AS DATE), CAST(a AS DATE))"
    assert SPARK.shift_left("x", "3") == "shiftleft(x, 3)"
    assert SPARK.json_field("doc", "it's") == "get_json_object(doc, '$.it\\'s')"
    assert SPARK.arg_max("v", "a", "b") == "max_by(v, struct(a, b))"
    assert SPARK.file_source("d/x.PARQUET") == "parquet.`d/x.PARQUET`"
    assert SPARK.file_source("d/x.csv") == "csv.`d/x.csv`"
    assert SPARK.star_except(["`a`"]) is None


def test_json_field_and_arg_max_in_duckdb() -> None:
    assert _one(DUCKDB.json_field("""'{"amount": "12.5", "it''s": 1}'""", "amount")) == "12.5"
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1, 1), ('b', 2, 1), ('c', 2, 3)) t")
    assert con.execute(f"SELECT {DUCKDB.arg_max('col0', 'col1', 'col2')} FROM t").fetchall() == [
        ("c",)
    ]
    con.execute(f"SELECT {DUCKDB.star_except([DUCKDB.ident('col1')])} FROM t")
    assert con.description is not None
    assert [c[0] for c in con.description] == ["col0", "col2"]


#: Events a microsecond or a century apart, with ids of either sign and both extremes.
_STEP = st.one_of(st.integers(0, 2), st.integers(0, 10**17))
_ID = st.one_of(st.sampled_from([-(2**63), -1, 0, 1, 2**63 - 1]), st.integers(-(2**63), 2**63 - 1))


@settings(deadline=None)  # DuckDB's first queries plan slowly on a busy machine
@given(
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)),
    st.lists(st.tuples(_STEP, _ID), min_size=1, max_size=12, unique_by=lambda e: e[1]),
)
def test_latest_is_arg_max_of_the_time_then_the_id(
    start: dt.datetime, events: list[tuple[int, int]]
) -> None:
    """DuckDB's one-number key (decision 0815) picks the row the pair of keys picks: events at
    the same microsecond or one apart, ids of any sign and at either extreme."""
    rows = [(start + dt.timedelta(microseconds=step), event_id) for step, event_id in events]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR, ts TIMESTAMP, id BIGINT)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(str(i), *r) for i, r in enumerate(rows)])
    want = str(max(range(len(rows)), key=lambda i: rows[i]))
    assert con.execute(f"SELECT {DUCKDB.latest('v', 'ts', 'id')} FROM t").fetchall() == [(want,)]
    assert con.execute(f"SELECT {DUCKDB.arg_max('v', 'ts', 'id')} FROM t").fetchall() == [(want,)]
    assert SPARK.latest("v", "ts", "id") == SPARK.arg_max("v", "ts", "id")


def test_file_sources_read_parquet_and_csv_in_duckdb(tmp_path: Path) -> None:
    folder = tmp_path / "it's 信用"
    folder.mkdir()
    pq.write_table(pa.table({"x": [1, 2]}), folder / "t.Parquet")
    (folder / "t.csv").write_text("x\n3\n", encoding="utf-8")
    con = duckdb.connect()
    parquet = DUCKDB.file_source(str(folder / "t.Parquet"))
    assert parquet.startswith("read_parquet(")
    assert con.execute(f"SELECT sum(x) FROM {parquet}").fetchall() == [(3,)]
    csv = DUCKDB.file_source(str(folder / "t.csv"))
    assert con.execute(f"SELECT sum(x) FROM {csv}").fetchall() == [(3,)]


def test_the_public_surface_is_pinned() -> None:
    import credo.sql

    expected = ["DIALECTS", "DUCKDB", "SPARK", "Dialect", "DuckDB", "Spark", "dialect"]
    assert sorted(credo.sql.__all__) == sorted([*expected, "ident", "literal"])
    assert all(hasattr(credo.sql, name) for name in credo.sql.__all__)


def test_a_fraction_constant_computes_as_duckdb_does() -> None:
    """DuckDB's avg and division of DECIMAL give DOUBLE; Spark's text says DOUBLE outright."""
    con = duckdb.connect()
    share = f"avg(CASE WHEN i < 1 THEN {DUCKDB.number('1.0')} ELSE {DUCKDB.number('0.0')} END)"
    assert con.sql(f"SELECT {share} FROM range(3) r(i)").fetchall() == [(1 / 3,)]
    assert con.sql(f"SELECT 37 / {DUCKDB.number('12.0')}").fetchall() == [(37 / 12,)]
    assert SPARK.number("12.0") == "12.0D"
