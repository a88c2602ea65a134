"""A generated source file in memory, and the writers that put it on disk byte-for-byte
reproducibly.

Each source generator returns a ``SourceFrame``: its columns in file order, plus, per row,
the true person (and counterpart) and the noise applied, which become the ground truth. The
writers never depend on the wall clock or on hash ordering: CSV and JSON Lines are built as
text with fixed quoting and line endings, and Parquet is written with fixed settings.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from credo.sim.draws import IntArray

__all__ = ["InvalidRow", "SourceFrame", "write_frame", "write_parquet"]

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
    counterpart: IntArray | None = None  # true counterpart person per row (connections)
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
    if frame.format == "csv":
        _write_csv(frame, path)
    elif frame.format == "jsonl":
        _write_jsonl(frame, path)
    else:
        write_parquet(_arrow_table(frame), path)


#: Rows encoded and written at a time: the file's bytes are the same as written at once, and
#: only one chunk's text is held beside the columns (benchmarks/demo).
CHUNK_ROWS = 100_000


def _chunks(frame: SourceFrame) -> Iterator[list[tuple[Any, ...]]]:
    cols = [_as_list(c) for c in frame.columns.values()]
    rows = zip(*cols, strict=True)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def _write_csv(frame: SourceFrame, path: Path) -> None:
    with path.open("w", encoding=frame.encoding, newline="") as f:
        writer = csv.writer(f, delimiter=frame.delimiter, quotechar='"', lineterminator="\n")
        writer.writerow(list(frame.columns))
        for chunk in _chunks(frame):
            writer.writerows(chunk)  # None is written as an empty cell


def _write_jsonl(frame: SourceFrame, path: Path) -> None:
    keys = list(frame.columns)
    with path.open("w", encoding=frame.encoding, newline="") as f:
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


def write_parquet(table: pa.Table, path: Path) -> None:
    """Parquet with every writer setting pinned, so equal tables give equal bytes."""
    pq.write_table(
        table.replace_schema_metadata(None),
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        row_group_size=1 << 20,
        version="2.6",
        data_page_version="1.0",
        store_schema=False,
    )
