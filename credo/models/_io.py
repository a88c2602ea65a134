"""Reading CSV and Parquet tables through DuckDB, with errors that name the file and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.models._errors import DataError
from credo.models._frame import column_of
from credo.sql import DUCKDB

__all__ = ["bad_target", "read_table", "source_of", "table_columns"]

_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet"}


def source_of(path: str | Path) -> str:
    """DuckDB relation text for a CSV or Parquet file that exists."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"no such file: {str(file)!r}")
    if file.suffix.lower() not in _FORMATS:
        raise DataError(
            f"cannot read {str(file)!r}: expected a .csv or .parquet file",
            hint=f"got the extension {file.suffix or '(none)'!r}",
        )
    return DUCKDB.file_source(str(file))


def _connect() -> Any:
    import duckdb

    return duckdb.connect()


def table_columns(path: str | Path) -> dict[str, str]:
    """Column name -> DuckDB type of a file, without reading its rows."""
    import duckdb

    source = source_of(path)
    con = _connect()
    try:
        rows = con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    return {str(r[0]): str(r[1]) for r in rows}


def read_table(path: str | Path) -> dict[str, NDArray[Any]]:
    """Every column of a CSV or Parquet file as a 1-D array (NaN / None for missing)."""
    import duckdb

    source = source_of(path)
    con = _connect()
    try:
        fetched = con.sql(f"SELECT * FROM {source}").fetchnumpy()
    except duckdb.Error as exc:
        raise DataError(
            f"cannot read {str(path)!r}: {exc}",
            hint="a column with text among numbers fails here; fix the cell or quote the column",
        ) from None
    if not fetched or len(next(iter(fetched.values()))) == 0:
        raise DataError(f"{str(path)!r} has no rows")
    return {str(name): column_of(fetched, name) for name in fetched}


_BAD_WORDS = ("1", "1.0", "true", "bad")


def bad_target(values: NDArray[Any], column: str, bad: str | None) -> NDArray[np.int64]:
    """1 for bad, 0 for good, from a target column and the value that means bad.

    Without ``bad``, a two-valued target whose values include 1, true or "bad" is read the obvious
    way; anything else must say which value is bad.
    """
    text = np.array(
        [None if v is None or (isinstance(v, float) and np.isnan(v)) else _norm(v) for v in values],
        dtype=object,
    )
    missing = np.flatnonzero([v is None for v in text])
    if len(missing):
        raise DataError(
            f"target column {column!r} is missing in {len(missing)} rows (first: row"
            f" {missing[0] + 1})",
            hint="drop unlabelled rows before training or validating",
        )
    classes = sorted(set(text))
    if bad is None:
        found = [c for c in classes if c.lower() in _BAD_WORDS]
        if len(classes) == 2 and len(found) == 1:
            bad = found[0]
        elif len(classes) >= 2:
            raise DataError(
                f"target column {column!r} holds {', '.join(map(repr, classes[:6]))}:"
                " say which value means bad",
                hint="pass --bad VALUE",
            )
        else:
            bad = classes[0] if classes else ""
    wanted = _norm(_as_number_text(bad))
    if wanted not in classes:
        raise DataError(
            f"--bad {bad!r} is not a value of target column {column!r}",
            hint=f"it holds {', '.join(map(repr, classes[:6]))}",
        )
    return np.asarray(text == wanted, dtype=np.int64)


def _as_number_text(value: str) -> object:
    try:
        return float(value)
    except ValueError:
        return value


def _norm(value: object) -> str:
    """One text per value: 1, 1.0 and "1" are the same label."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)
