"""The one reader of ``credo train --table``, ``score-table`` and ``validate`` (decision 0104).

A lender's table arrives as CSV or Parquet with booleans spelt yes/no, Y/N, true/false or 1/0,
amounts with thousands separators, currency signs, a percent sign or an accountant's
parentheses for a negative, and dates. Every command reads it through the same SQL, so
training and scoring can never see different types:

1. ``raw_types``: the file's columns as stored (a CSV is read all as text, so DuckDB's sniffer
   never guesses from a sample; a Parquet column keeps its type);
2. ``infer_schema``: one aggregate query types each column ``boolean``, ``number``, ``date`` or
   ``text`` (:data:`~credo.models.document.ColumnType`); a column of numbers with a few stray
   words is an error naming the row (decision 0100);
3. ``typed_sql``: a ``SELECT`` coercing every column to its type: booleans to 1/0, numbers to
   DOUBLE, dates to the number YYYYMMDD (ordered and readable in a cut: "under 20240301"),
   text unchanged.

The schema is stored in the model; at scoring time ``typed_sql`` coerces the new file to the
*stored* types and ``check_cells`` refuses a cell that does not fit, naming column, expected
and found type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from credo.models._errors import DataError
from credo.models._frame import MISSING_MARKERS, NUMERIC_SHARE, column_of
from credo.models.document import ColumnType
from credo.sql import ident, literal

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "check_cells",
    "infer_schema",
    "raw_source",
    "raw_types",
    "read_typed",
    "typed_sql",
]

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
_NUMBER_RE = (
    r"[+-]?[$€£¥]?\s*[+-]?(\d{1,3}(,\d{3})+(\.\d*)?|\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*[%$€£¥]?"
)
#: An accountant's negative: the amount in parentheses, a currency sign inside or before them,
#: e.g. "(2,441.47)", "($2,441.47)", "$(12)" read -2441.47, -2441.47 and -12. No sign inside.
_ACCOUNTING_RE = (
    r"[$€£¥]?\s*\(\s*[$€£¥]?\s*(\d{1,3}(,\d{3})+(\.\d*)?|\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
    r"\s*[%$€£¥]?\s*\)"
)
_DATE_RE = r"\d{4}[-/]\d{2}[-/]\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
_NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)
_TEXT = ("VARCHAR",)


def _words(words: Sequence[str] | frozenset[str]) -> str:
    return ", ".join(literal(w) for w in sorted(words))


def _family(raw: str) -> str:
    """``number``, ``boolean``, ``date``, ``text`` (VARCHAR) or ``other`` for a DuckDB type."""
    kind = raw.upper()
    if kind.startswith(_NUMERIC_TYPES):
        return "number"
    if kind == "BOOLEAN":
        return "boolean"
    if kind == "DATE" or kind.startswith("TIMESTAMP"):
        return "date"
    return "text" if kind.startswith(_TEXT) else "other"


def raw_source(path: str | Path) -> str:
    """The file as stored; a CSV all as text, so that no column type is guessed from a sample."""
    from credo.models._io import source_of

    source = source_of(path)
    if str(path).lower().endswith(".parquet"):
        return source
    return f"read_csv({literal(str(path))}, all_varchar = true)"


def raw_types(path: str | Path) -> dict[str, str]:
    """Column name -> DuckDB type of the file as :func:`raw_source` reads it."""
    import duckdb

    try:
        rows = duckdb.connect().sql(f"DESCRIBE SELECT * FROM {raw_source(path)}").fetchall()
    except duckdb.Error as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    return {str(r[0]): str(r[1]) for r in rows}


def _is_missing(q: str) -> str:
    return f"({q} IS NULL OR lower(trim({q})) IN ({_words(MISSING_MARKERS)}))"


def _text_number(q: str) -> str:
    """A DOUBLE from text: DuckDB's own cast first, then separators, currency and % stripped;
    an amount in parentheses is negative (``0 -``, so "(0)" reads 0.0, not -0.0)."""
    cleaned = f"TRY_CAST(regexp_replace(trim({q}), '[^0-9eE.+-]', '', 'g') AS DOUBLE)"
    return (
        f"CASE WHEN {_is_missing(q)} THEN NULL ELSE COALESCE(TRY_CAST({q} AS DOUBLE),"
        f" CASE WHEN regexp_full_match(trim({q}), {literal(_NUMBER_RE)}) THEN {cleaned}"
        f" WHEN regexp_full_match(trim({q}), {literal(_ACCOUNTING_RE)}) THEN 0 - {cleaned}"
        " END) END"
    )


def _text_boolean(q: str) -> str:
    low = f"lower(trim({q}))"
    return (
        f"CASE WHEN {low} IN ({_words(TRUE_WORDS)}) THEN CAST(1 AS DOUBLE)"
        f" WHEN {low} IN ({_words(FALSE_WORDS)}) THEN CAST(0 AS DOUBLE) END"
    )


def _ymd(day: str) -> str:
    return f"CAST(year({day}) * 10000 + month({day}) * 100 + day({day}) AS DOUBLE)"


def _text_date(q: str) -> str:
    text = f"replace(left(trim({q}), 10), '/', '-')"
    matched = f"CASE WHEN regexp_full_match(trim({q}), {literal(_DATE_RE)}) THEN {text} END"
    return _ymd(f"TRY_CAST({matched} AS DATE)")


def coerce(name: str, raw: str, kind: ColumnType) -> str | None:
    """SQL turning column ``name`` (stored as ``raw``) into ``kind``; None when it cannot."""
    q, family = ident(name), _family(raw)
    if kind == "text":
        return q if family == "text" else f"CAST({q} AS VARCHAR)"
    if family == "text":
        return {"number": _text_number, "boolean": _text_boolean, "date": _text_date}[kind](q)
    if kind == "number" and family in ("number", "boolean"):
        return q if family == "number" else f"CAST({q} AS DOUBLE)"
    if kind == "boolean" and family == "boolean":
        return f"CAST({q} AS DOUBLE)"
    if kind == "boolean" and family == "number":
        return f"CASE WHEN {q} IN (0, 1) THEN CAST({q} AS DOUBLE) END"
    if kind == "date" and family == "date":
        return _ymd(f"CAST({q} AS DATE)")
    return None


def _counts(name: str) -> list[str]:
    q = ident(name)
    present = f"NOT {_is_missing(q)}"
    tests = {
        "present": present,
        "number": f"{present} AND {_text_number(q)} IS NOT NULL",
        "boolean": f"{present} AND lower(trim({q})) IN ({_words((*TRUE_WORDS, *FALSE_WORDS))})",
        "date": f"{present} AND {_text_date(q)} IS NOT NULL",
    }
    return [f"count(*) FILTER (WHERE {test})" for test in tests.values()]


def infer_schema(
    path: str | Path, columns: Mapping[str, str], names: Sequence[str]
) -> dict[str, ColumnType]:
    """Each of ``names`` typed from the values (text columns) or the stored type (the others)."""
    import duckdb

    schema: dict[str, ColumnType] = {}
    texts = [n for n in names if _family(columns[n]) == "text"]
    for name in names:
        family = _family(columns[name])
        schema[name] = "text" if family in ("text", "other") else family  # type: ignore[assignment]
    if not texts:
        return schema
    select = ", ".join(c for n in texts for c in _counts(n))
    try:
        (found,) = duckdb.connect().sql(f"SELECT {select} FROM {raw_source(path)}").fetchall()
    except duckdb.Error as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    for i, name in enumerate(texts):
        present, number, boolean, date = (int(v) for v in found[4 * i : 4 * i + 4])
        schema[name] = _kind_from_counts(present, number, boolean, date)
        if schema[name] == "text" and present and number >= NUMERIC_SHARE * present:
            row, value, bad = _first_misfit(path, name, columns[name], "number")
            raise DataError(
                f"column {name!r} is numeric but row {row} holds {value!r} ({bad} such rows)"
                f" in {str(path)!r}",
                hint="fix or blank those cells (they cannot be guessed)",
            )
    return schema


def _kind_from_counts(present: int, number: int, boolean: int, date: int) -> ColumnType:
    """All numbers: number (a 0/1 column too); else all boolean words, all dates; else text.
    A column with no value at all is a number column with every cell missing."""
    if number == present:
        return "number"
    if boolean == present:
        return "boolean"
    if date == present:
        return "date"
    return "text"


def typed_sql(
    path: str | Path,
    columns: Mapping[str, str],
    schema: Mapping[str, ColumnType],
    *,
    keep_all: bool = False,
) -> str:
    """``SELECT`` of the ``schema`` columns coerced to their types, in the file's order; with
    ``keep_all`` the file's other columns too, as stored."""
    parts = []
    for name, raw in columns.items():
        if name not in schema:
            if keep_all:
                parts.append(ident(name))
            continue
        kind = schema[name]
        expression = coerce(name, raw, kind)
        if expression is None:
            raise DataError(
                f"column {name!r} of {str(path)!r}: the model expects {_kind_text(kind)},"
                f" found {_kind_text(_family(raw))} (stored as {raw})",
                hint="give the column the type it had in the training table",
            )
        parts.append(expression if expression == ident(name) else f"{expression} AS {ident(name)}")
    return f"SELECT {', '.join(parts)} FROM {raw_source(path)}"


def read_typed(
    path: str | Path, columns: Mapping[str, str], schema: Mapping[str, ColumnType]
) -> dict[str, NDArray[Any]]:
    """The ``schema`` columns of the file, coerced, as arrays (NaN / None for missing)."""
    import duckdb

    try:
        fetched = duckdb.connect().sql(typed_sql(path, columns, schema)).fetchnumpy()
    except duckdb.Error as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    return {str(name): column_of(fetched, name) for name in fetched}


def check_cells(path: str | Path, columns: Mapping[str, str], schema: Mapping[str, str]) -> None:
    """Refuse a file whose cells do not fit the stored schema: column, expected and found type."""
    import duckdb

    # Only text cells can fail to read as a number, boolean or date, and numbers as booleans.
    checked = [
        n
        for n, k in schema.items()
        if (k != "text" and _family(columns[n]) == "text")
        or (k == "boolean" and _family(columns[n]) == "number")
    ]
    if not checked:
        return
    tests = [_misfit(n, columns[n], schema[n]) for n in checked]  # type: ignore[arg-type]
    select = ", ".join(f"count(*) FILTER (WHERE {t})" for t in tests)
    try:
        (found,) = duckdb.connect().sql(f"SELECT {select} FROM {raw_source(path)}").fetchall()
    except duckdb.Error as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    for name, bad in zip(checked, found, strict=True):
        if not bad:
            continue
        expected: ColumnType = schema[name]  # type: ignore[assignment]
        row, value, count = _first_misfit(path, name, columns[name], expected)
        found_kind = infer_schema(path, columns, [name])[name] if count else "text"
        raise DataError(
            f"column {name!r} of {str(path)!r}: the model expects {_kind_text(expected)},"
            f" found {_kind_text(found_kind)} (row {row} holds {value!r}; {count} such rows)",
            hint="fix or blank those cells, or retrain on a table of this shape",
        )


def _misfit(name: str, raw: str, kind: ColumnType) -> str:
    q = ident(name)
    expression = coerce(name, raw, kind)
    present = f"NOT {_is_missing(q)}" if _family(raw) == "text" else f"{q} IS NOT NULL"
    return f"{present} AND ({expression}) IS NULL"


def _first_misfit(path: str | Path, name: str, raw: str, kind: ColumnType) -> tuple[int, Any, int]:
    """Row number (1-based), value and count of the cells of ``name`` that are not ``kind``."""
    import duckdb

    test = _misfit(name, raw, kind)
    sql = (
        f"SELECT min(credo_row), arg_min({ident(name)}, credo_row), count(*) FROM"
        f" (SELECT row_number() OVER () AS credo_row, * FROM {raw_source(path)}) WHERE {test}"
    )
    (row,) = duckdb.connect().sql(sql).fetchall()
    return int(row[0] or 0), row[1], int(row[2])


def _kind_text(kind: str) -> str:
    return {
        "number": "a number",
        "boolean": "a boolean (yes/no, true/false, 1/0)",
        "date": "a date",
        "text": "text",
        "other": "another type",
    }[kind]
