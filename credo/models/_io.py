"""Where a CSV or Parquet table is, as a DuckDB relation, with errors that name the file.

Reading and typing its columns is :mod:`credo.models.reader`'s work."""

from __future__ import annotations

from pathlib import Path

from credo.models._errors import DataError
from credo.sql import DUCKDB

__all__ = ["source_of"]

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
