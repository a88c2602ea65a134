"""A generated source file in memory, and the writers that put it on disk byte-for-byte
reproducibly.

Each source generator returns a ``SourceFrame``: its columns in file order, plus, per row,
the true person (and counterpart) and the noise applied, which become the ground truth. The
writers never depend on the wall clock or on hash ordering: CSV and JSON Lines are built as
text with fixed quoting and line endings, and Parquet is written with fixed settings.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from credo.sim.draws import IntArray

__all__ = [
    "FrameWriter",
    "InvalidRow",
    "ParquetParts",
    "SourceFrame",
    "write_frame",
    "write_parquet",
]

Column = list[Any] | npt.NDArray[Any]


@dataclass(frozen=True)
class InvalidRow:
    """A row deliberately made invalid, and why: the loader must quarantine exactly these."""

    row: int  # 1-based data row (the header, where there is one, is not counted)
    source_record_id: str
    field: str  # the event field at fault
    column: str  # the source column that carries it
    value: str  # the offending value as written
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "source_record_id": self.source_record_id,
            "field": self.field,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass
class SourceFrame:
    source: str
    file_name: str
    format: Literal["csv", "jsonl", "parquet"]
    columns: dict[str, Column]  # in file order
    record_id: str  # the column holding the source record id
    person: IntArray  # true person index per row
    noise: list[str]  # comma-separated noise kinds per row, "" for a clean row
    #: true counterpart person per row (connections), an index into the whole population
    #: when the frame is one slice of it (``person`` indexes the slice)
    counterpart: IntArray | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    arrow_types: dict[str, pa.DataType] = field(default_factory=dict)
    invalid: list[InvalidRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.person)

    def record_ids(self) -> list[str]:
        return [str(v) for v in _as_list(self.columns[self.record_id])]


def _as_list(col: Column) -> list[Any]:
    return col.tolist() if isinstance(col, np.ndarray) else col


def write_frame(frame: SourceFrame, path: Path) -> None:
    with FrameWriter(path) as writer:
        writer.write(frame)


#: gzip level of compressed source files: level 1 measured 3.2x smaller than the text at
#: 0.28 CPU-s per 30 MB of payments CSV; level 6 3.6x at 0.94 CPU-s (docs/decisions/0123).
GZIP_LEVEL = 1


def gzip_writer(path: Path, raw: BinaryIO | None = None) -> gzip.GzipFile:
    """The one way a source file is gzipped, by the generator and by ``compress_population``
    alike, so both give the same bytes: level ``GZIP_LEVEL``, the header naming ``path``
    without ".gz" and its time fixed at 0; written to ``raw`` if given, else to ``path``."""
    return gzip.GzipFile(str(path), "wb", GZIP_LEVEL, raw, mtime=0)


class FrameWriter:
    """One source's file, written one frame (one slice of persons) after another: the header
    once, then each frame's rows. A single frame gives the bytes ``write_frame`` always gave.

    ``compress``: a text file is written gzipped (``path`` should end in ``.gz``), its header
    time fixed at 0 so equal text gives equal bytes; Parquet compresses its own pages and is
    written as it is."""

    def __init__(self, path: Path, *, compress: bool = False) -> None:
        self.path = path
        self.compress = compress
        self._text: TextIO | None = None
        self._csv: Any = None
        self._parquet: ParquetParts | None = None

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, frame: SourceFrame) -> None:
        if frame.format == "parquet":
            if self._parquet is None:
                self._parquet = ParquetParts(self.path)
            self._parquet.write(_arrow_table(frame))
            return
        if self._text is None:
            self._text = self._open_text(frame.encoding)
            if frame.format == "csv":
                self._csv = csv.writer(
                    self._text, delimiter=frame.delimiter, quotechar='"', lineterminator="\n"
                )
                self._csv.writerow(list(frame.columns))
        if frame.format == "csv":
            for chunk in _chunks(frame):
                self._csv.writerows(chunk)  # None is written as an empty cell
        else:
            _write_jsonl(frame, self._text)

    def _open_text(self, encoding: str) -> TextIO:
        if not self.compress:
            return self.path.open("w", encoding=encoding, newline="")
        # The header names the file without ".gz", as the gzip tool does; mtime=0 keeps the
        # bytes a function of the text alone.
        gz = gzip_writer(self.path)
        return io.TextIOWrapper(gz, encoding=encoding, newline="")

    def close(self) -> None:
        if self._text is not None:
            self._text.close()
            self._text = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None


#: Rows encoded and written at a time: the file's bytes are the same as written at once, and
#: only one chunk's text is held beside the columns (benchmarks/demo).
CHUNK_ROWS = 100_000


def _chunks(frame: SourceFrame) -> Iterator[list[tuple[Any, ...]]]:
    cols = [_as_list(c) for c in frame.columns.values()]
    rows = zip(*cols, strict=True)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def _write_jsonl(frame: SourceFrame, f: TextIO) -> None:
    keys = list(frame.columns)
    for chunk in _chunks(frame):
        f.write(
            "".join(
                json.dumps(
                    dict(zip(keys, row, strict=True)), ensure_ascii=False, separators=(",", ":")
                )
                + "\n"
                for row in chunk
            )
        )


def _to_arrow(col: Column, type_: pa.DataType) -> pa.Array:
    if isinstance(col, np.ndarray) and col.dtype.kind == "M":
        return pa.array(col, type=type_, mask=np.isnat(col))
    return pa.array(_as_list(col), type=type_)


def _arrow_table(frame: SourceFrame) -> pa.Table:
    arrays = [_to_arrow(col, frame.arrow_types[name]) for name, col in frame.columns.items()]
    return pa.Table.from_arrays(arrays, names=list(frame.columns))


#: Rows per Parquet row group: pinned, so equal tables give equal bytes.
ROW_GROUP = 1 << 20


def write_parquet(table: pa.Table, path: Path) -> None:
    """Parquet with every writer setting pinned, so equal tables give equal bytes."""
    with ParquetParts(path) as parts:
        parts.write(table)


class ParquetParts:
    """A Parquet file written from consecutive tables with every setting pinned. Rows are held
    until a whole row group (``ROW_GROUP``) is in, so the row groups, and the bytes, are those
    of writing all the tables' rows as one table, while at most one row group waits here."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None
        self._held: list[pa.Table] = []
        self._rows = 0

    def __enter__(self) -> ParquetParts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, table: pa.Table) -> None:
        table = table.replace_schema_metadata(None)
        while len(table):
            take = min(len(table), ROW_GROUP - self._rows)
            self._held.append(table.slice(0, take))
            self._rows += take
            table = table.slice(take)
            if self._rows == ROW_GROUP:
                self._flush()
        if self._writer is None and not self._held:
            self._held.append(table)  # keep the schema of an empty file

    def _flush(self) -> None:
        group = pa.concat_tables(self._held).combine_chunks()
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.path,
                group.schema,
                compression="zstd",
                compression_level=3,
                use_dictionary=True,
                write_statistics=True,
                version="2.6",
                data_page_version="1.0",
                store_schema=False,
            )
        self._writer.write_table(group, row_group_size=ROW_GROUP)
        self._held, self._rows = [], 0

    def close(self) -> None:
        if self._held:
            self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
