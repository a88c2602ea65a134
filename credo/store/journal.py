"""The server's write-ahead journal: decisions are durable in a file before the database has them.

A DuckDB commit costs about a millisecond of statements here however few rows it holds, while
appending a line to a file and flushing it costs a fifth of that, with no statement at all. The
server therefore makes each batch of decisions durable as one line of this journal (its rows
and its chained audit entries), answers, and moves the journal into the database in bulk later:
before any other use of the store, every so many decisions, when idle, and on close
(docs/decisions/0612). The database alone stays the record; the journal only holds what it has
not yet been given.

A line is ``<crc32 hex> <json>``. A line cut short by a crash was never flushed, so never
acknowledged: replay drops it with a warning. A bad line anywhere else is damage, named by file
and line, and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.errors import StoreError

__all__ = ["Batch", "Journal", "encode", "journal_path"]

log = logging.getLogger("credo.store")

Row = list[Any]


@dataclass(frozen=True)
class Batch:
    """What one group commit wrote: rows per table, and the audit rows that record them."""

    tables: dict[str, list[Row]]
    audit: list[Row]

    @property
    def first_seq(self) -> int:
        return int(self.audit[0][0])

    @property
    def last_seq(self) -> int:
        return int(self.audit[-1][0])


def journal_path(db: Path) -> Path:
    """The journal's folder beside the database: numbered segment files."""
    return db.with_name(db.name + ".journal")


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$ts": value.isoformat()}
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$ts" in obj:
        return dt.datetime.fromisoformat(obj["$ts"])
    return obj


def encode(batch: Batch) -> bytes:
    body = json.dumps(
        {"tables": batch.tables, "audit": batch.audit},
        default=_default,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


class Journal:
    """Append-only segment files of batches, each append flushed before it returns.

    Appends go to the newest segment; :meth:`seal` starts a new one, so the segments before it
    can be applied to the database while appends go on, then :meth:`drop` deletes them. Only
    the process holding the database's lock opens it (``Store.open``); the store serialises
    appends, seals and drops. ``sync`` is false only under ``CREDO_API_FSYNC_MODE=none``.
    """

    def __init__(self, path: Path, *, sync: bool = True) -> None:
        if path.exists() and not path.is_dir():
            raise StoreError(
                f"journal {path} is not a folder",
                hint="move it away; Credo keeps its journal there",
            )
        self.path = path
        self.sync = sync
        self._fd: int | None = None
        self._number = max(self._segments(), default=0) + 1
        self._size = 0
        self._broken: str | None = None

    def _segments(self) -> list[int]:
        try:
            names = [p.name for p in self.path.iterdir()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(int(n[:-4]) for n in names if n.endswith(".log") and n[:-4].isdigit())

    def _segment(self, number: int) -> Path:
        return self.path / f"{number:09d}.log"

    def read(self) -> list[Batch]:
        """The batches on file, in order; a torn end of the newest segment is dropped (it was
        never acknowledged), any other bad line raises naming its file and line."""
        numbers = self._segments()
        batches: list[Batch] = []
        for number in numbers:
            batches.extend(self._read(self._segment(number), newest=number == numbers[-1]))
        return batches

    def _read(self, path: Path, *, newest: bool) -> list[Batch]:
        batches: list[Batch] = []
        lines = path.read_bytes().split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            torn = newest and number == len(lines)  # no newline after it: cut short
            try:
                crc, body = line.split(b" ", 1)
                if int(crc, 16) != zlib.crc32(body):
                    raise ValueError("checksum mismatch")
                obj = json.loads(body, object_hook=_hook)
                batch = Batch(tables=obj["tables"], audit=obj["audit"])
                if not batch.audit:
                    raise ValueError("a batch without audit entries")
            except (ValueError, KeyError, TypeError) as exc:
                if torn:
                    log.warning("%s: line %d was cut short by a crash and is dropped (it was "
                                "never acknowledged)", path, number)  # fmt: skip
                    break
                raise StoreError(
                    f"journal {path}, line {number}: damaged ({exc})",
                    hint="nothing was changed; keep the file and restore it from a backup",
                ) from None
            batches.append(batch)
        return batches

    def append(self, batch: Batch) -> None:
        """Write one batch and flush it to disk; on any failure the segment is cut back to what
        it held before, or, if even that fails, no later append is taken."""
        if self._broken:
            raise StoreError(
                f"journal {self.path} cannot be written: {self._broken}",
                hint="restart the server; acknowledged decisions are safe",
            )
        data = encode(batch)
        fd = self._open()
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(f"short write ({written} of {len(data)} bytes)")
            if self.sync:
                os.fdatasync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, self._size)
                os.lseek(fd, self._size, os.SEEK_SET)
            except OSError as again:
                self._broken = str(again)
            raise StoreError(f"journal {self.path}: cannot write ({exc})") from None
        self._size += len(data)

    def seal(self) -> int:
        """End the current segment (later appends start a new one); returns its number: every
        segment up to it may be applied and then dropped."""
        sealed = self._number if self._fd is not None else self._number - 1
        self.close()
        return sealed

    def drop(self, upto: int) -> None:
        """Delete the sealed segments up to ``upto``, once the database holds what they held."""
        for number in self._segments():
            if number <= upto and number != self._number:
                self._segment(number).unlink()
        self._sync_dir()

    def clear(self) -> None:
        """Delete every segment (the database holds all of them)."""
        self.close()
        for number in self._segments():
            self._segment(number).unlink()
        self._sync_dir()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._number += 1

    def _open(self) -> int:
        if self._fd is None:
            if not self.path.is_dir():
                self.path.mkdir(mode=0o700)
                _fsync_dir(self.path.parent, self.sync)
            self._fd = os.open(self._segment(self._number), os.O_WRONLY | os.O_CREAT, 0o600)
            self._size = os.lseek(self._fd, 0, os.SEEK_END)
            self._sync_dir()  # the new name itself must survive a crash
        return self._fd

    def _sync_dir(self) -> None:
        if self.path.is_dir():
            _fsync_dir(self.path, self.sync)


def _fsync_dir(path: Path, sync: bool) -> None:
    """Make a new or removed name in ``path`` survive a crash."""
    if not sync:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
