"""Opening a source file as a raw DuckDB table: format, encoding, columns.

Everything that makes a file unreadable as a whole is found here and raised as one clear
``InputError`` naming the file (and the line where DuckDB tells it): wrong encoding, ragged rows
and broken quoting, an empty or header-only file, a truncated Parquet file, missing or unknown
columns, a damaged ``.gz``. Row-level problems are left to ``validate``. A ``.gz`` CSV or JSON
Lines file is read as its text: DuckDB inflates it as it scans, Python where it looks at bytes.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import duckdb
import pyarrow as pa

from credo.errors import EncodingError, InputError, SchemaMismatchError
from credo.identifiers import mask_line
from credo.ingest.compressed import GZIP_ERRORS, open_bytes, unreadable_gzip
from credo.ingest.mapping import FileFormat, Mapping, compression
from credo.sql import ident, literal

__all__ = ["ROW_NO", "RawFile", "Staging", "check_columns", "open_raw", "trimmed_sql"]

_CHUNK = 1 << 20
_COPY_NAME = "utf8.zst"
"""A transcoded copy's name: zstd-compressed UTF-8 (decision 0988)."""
_UTF8 = ("utf-8", "utf8", "utf-8-sig")

ROW_NO = "__row_no"
"""The column of the reader's rows holding each row's number in the file (from 1)."""

Staging = Callable[[str, dict[str, str], bool], str]
"""Builds the query a file is staged with from the rows as read (a subquery: the trimmed
columns and ``ROW_NO``), the file's column types, and whether its text is proven plain (no
value to trim, no control character: ``plain.PlainScan``)."""


def trimmed_sql(expr: str) -> str:
    """``nullif(trim(expr), '')`` with a fast path for text that has nothing to trim.

    DuckDB's ``trim`` removes Unicode space separators (category Zs) only, decoding every
    character of the string and copying it. Every Zs character but the ASCII space is
    non-ASCII, so an all-ASCII value (as many bytes as characters) that neither starts nor
    ends with a space is already trimmed; only the others pay for ``trim``. Measured at 2M
    Parquet rows, 9 columns: 0.6 CPU-s for ``trim`` on all, 0.15 with the fast path (on CSV no
    gain was measured: 0.3-0.5 either way).
    """
    return (
        f"CASE WHEN strlen({expr}) = length({expr}) AND NOT starts_with({expr}, ' ') "
        f"AND NOT ends_with({expr}, ' ') THEN nullif({expr}, '') "
        f"ELSE nullif(trim({expr}), '') END"
    )


def _as_read(source: str, types: dict[str, str], plain: bool) -> str:
    return f"SELECT * FROM {source}"


@dataclass(frozen=True)
class RawFile:
    """A file staged as temp table ``table``, with what was learnt opening it."""

    path: Path
    file_format: FileFormat
    encoding: str | None
    columns: dict[str, str]
    rows: int
    table: str


def _inflates_to_nothing(path: Path) -> bool:
    """Whether a ``.gz`` file holds no text (its bytes are the gzip header and trailer)."""
    try:
        with open_bytes(path) as fh:
            return not fh.read(1)
    except GZIP_ERRORS as exc:
        raise unreadable_gzip(path, exc) from None


def _bad_at(offset: int, chunk: bytes, exc: UnicodeDecodeError) -> int:
    """The file offset of the bad sequence ``exc`` names, ``chunk`` read from ``offset``.

    An incremental decoder reports positions in what it held back from the last chunk (a
    sequence cut by the chunk's end) followed by ``chunk``: the bad bytes may begin before it.
    """
    return offset + len(chunk) - len(exc.object) + exc.start


def _first_bad_utf8(path: Path) -> int | None:
    """Byte offset of the first invalid UTF-8 sequence, or None when the file is clean."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open_bytes(path) as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return _bad_at(offset, chunk, exc)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return _bad_at(offset, b"", exc)
    return None


def _detect(path: Path) -> str | None:
    from charset_normalizer import from_bytes

    with open_bytes(path) as fh:
        sample = fh.read(_CHUNK)
    best = from_bytes(sample).best()
    return None if best is None else str(best.encoding).lower()


def _looks_chinese(path: Path) -> bool:
    """Whether the start of the file decodes as GB18030 into mostly Chinese text.

    Detectors guess wrongly on short Chinese samples (Shift-JIS, say), and Chinese sources
    are the non-UTF-8 files Credo expects, so this is tried first.
    """
    with open_bytes(path) as fh:
        sample = fh.read(_CHUNK)
    try:
        text = codecs.getincrementaldecoder("gb18030")().decode(sample)
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 127]
    cjk = sum(1 for c in wide if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef")
    return bool(wide) and cjk >= 0.9 * len(wide)


def _transcode(path: Path, encoding: str, out: Path) -> None:
    """Write ``path``'s text to ``out`` as zstd-compressed UTF-8, which DuckDB inflates as it
    reads (its zstd is built in: nothing is installed).

    Compressed, not plain: at 1M persons the utilities' bills (96.6M rows) took 16 GB as plain
    UTF-8 beside the store's spill. zstd level 1 (one frame a chunk, through pyarrow's codec)
    for its cost: about 0.15 CPU-s per million rows over plain (write and read together),
    where gzip level 1 cost about 1.15; the copy is 23% of the plain size (decision 0988). A
    bad byte is named by its offset in the file's (inflated) bytes, at its end too (a
    sequence cut short).
    """
    codec = pa.Codec("zstd", compression_level=1)
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open_bytes(path) as src, out.open("wb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise EncodingError(
                    f"{path}: byte {_bad_at(offset, chunk, exc)} is not valid {encoding}",
                    hint="check the file or pass the right --encoding",
                ) from None
            if text:
                dst.write(codec.compress(text.encode("utf-8"), asbytes=True))
            if not chunk:
                break
            offset += len(chunk)


def _inflation(readable: Path) -> str:
    """DuckDB's ``compression`` for a file it reads: a transcoded copy is zstd."""
    return "zstd" if readable.name == _COPY_NAME else (compression(readable) or "none")


def _text_bytes(readable: Path) -> BinaryIO:
    """The bytes of a file DuckDB reads as text, inflated (a ``.gz`` file, a copy)."""
    if readable.name == _COPY_NAME:
        return cast(BinaryIO, pa.input_stream(str(readable), compression="zstd"))
    return open_bytes(readable)


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise EncodingError(f"unknown encoding {name!r}") from None


def _resolve_encoding(path: Path, declared: str | None) -> tuple[str, bool]:
    """The file's encoding and whether it must be transcoded to UTF-8 for DuckDB."""
    if declared is not None:
        name = _codec(declared)
        if name in ("utf-8", "utf-8-sig"):
            bad = _first_bad_utf8(path)
            if bad is not None:
                raise EncodingError(
                    f"{path}: not valid UTF-8 at byte {bad}",
                    hint="pass the file's encoding with --encoding (e.g. gb18030)",
                )
            return "utf-8", False
        return name, True
    bad = _first_bad_utf8(path)
    if bad is None:
        return "utf-8", False
    if _looks_chinese(path):
        # GB18030 is a superset of GBK and GB2312: decoding as it reads all three.
        return "gb18030", True
    guess = _detect(path)
    raise EncodingError(
        f"{path}: not valid UTF-8 at byte {bad}" + (f" (it looks like {guess})" if guess else ""),
        hint="pass the file's encoding with --encoding",
    )


def _csv_header(path: Path, mapping: Mapping) -> list[str]:
    with io.TextIOWrapper(_text_bytes(path), encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
        if not first.strip():
            if not first and fh.read(1) == "":
                raise InputError(f"{path}: the file is empty", hint="expected a header row")
            raise InputError(f"{path}: the first line is blank; expected a header row")
    row = next(csv.reader(io.StringIO(first), delimiter=mapping.delimiter, quotechar=mapping.quote))
    header = [c.strip() for c in row]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise SchemaMismatchError(f"{path}: the header repeats column(s) {', '.join(dupes)}")
    if any(not c for c in header):
        raise SchemaMismatchError(f"{path}: the header has an empty column name")
    return header


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_JSON_LINE = re.compile(r"in line (\d+): (.*)")
_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _duck_message(exc: duckdb.Error) -> str:
    """DuckDB's reader error as one line: where, what, and the offending text."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = " ".join(ln for ln in lines if not ln.startswith(("Possible fixes", "*")))
    line = _CSV_LINE.search(text)
    if line is None:
        json_line = _JSON_LINE.search(text)
        if json_line is not None:
            what = json_line.group(2).split(" Try setting", 1)[0].strip()
            return f"line {json_line.group(1)}: {what}"
        return text.split(": ", 1)[-1] if ":" in text else text
    original = next(
        (
            ln.removeprefix("Original Line:").strip()
            for ln in lines
            if ln.startswith("Original Line")
        ),
        "",
    )
    cols = _COLUMNS.search(text)
    if cols:
        what = f"expected {cols.group(1)} columns, found {cols.group(2)}"
    elif "unterminated quote" in text:
        what = "a quoted value is never closed (unterminated quote)"
    else:
        what = lines[-1] if lines else "unreadable"
        for ln in lines[1:]:
            if not ln.startswith(("Original Line", "Possible fixes", "*")):
                what = ln
                break
    return f"line {line.group(1)}: {what} (the line, masked: {mask_line(original[:120])})"


def check_columns(path: Path, found: list[str], mapping: Mapping) -> None:
    wanted = mapping.source_columns()
    missing = sorted(wanted - set(found))
    if missing and len(found) == 1:
        other = next((d for d in (";", "\t", "|", ",") if d in found[0]), None)
        if other is not None:
            raise SchemaMismatchError(
                f"{path}: the header is one column {found[0][:60]!r}: the file looks "
                f"{other!r}-delimited, not {mapping.delimiter!r}",
                hint="set 'delimiter' in the mapping",
            )
    if missing:
        hints = [
            f"{m!r} (did you mean {close[0]!r}?)"
            if (close := difflib.get_close_matches(m, found, n=1, cutoff=0.6))
            else repr(m)
            for m in missing
        ]
        raise SchemaMismatchError(
            f"{path}: missing column(s) {', '.join(hints)} that mapping '{mapping.source}' uses",
            hint=f"the file has: {', '.join(found)}",
        )
    unknown = sorted(set(found) - wanted - set(mapping.ignore))
    if unknown:
        raise SchemaMismatchError(
            f"{path}: unknown column(s) {', '.join(map(repr, unknown))} not in mapping "
            f"'{mapping.source}'",
            hint="map them or list them under 'ignore' in the mapping",
        )


class _NotUtf8(Exception):
    """Raised inside staging when the text turns out not to be UTF-8."""


def _stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    readable: Path,
    mapping: Mapping,
    fmt: FileFormat,
    table: str,
    staging: Staging,
    plain: bool = False,
) -> dict[str, str]:
    """Create temp ``table`` from ``readable`` (UTF-8 text or Parquet) through ``staging``, in
    one read; the file's column types. ``plain``: the caller proved from ``readable``'s bytes
    that no CSV field has anything to trim or a control character (``plain.PlainScan``).

    Text columns arrive trimmed, with blanks as NULL: ``validate`` relies on it. Each row
    carries its number in the file (``ROW_NO``), given as the reader yields it, before any
    other operator: the staged table's own order is not relied on (a join in the staging
    query may reorder rows, which is how decision 0962 numbered bad rows wrongly).
    """
    # A .gz file or a transcoded copy is inflated by DuckDB as it reads.
    inflate = f"compression={literal(_inflation(readable))}"
    try:
        if fmt == "csv":
            try:
                header = _csv_header(readable, mapping)
            except UnicodeDecodeError:
                raise _NotUtf8 from None
            check_columns(path, header, mapping)
            columns = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
            reader = (
                f"read_csv({literal(str(readable))}, header=true, auto_detect=false, "
                f"columns={columns}, delim={literal(mapping.delimiter)}, "
                f"quote={literal(mapping.quote)}, escape={literal(mapping.quote)}, "
                f"strict_mode=true, encoding='utf-8', {inflate})"
            )
            # DuckDB's text readers give no row number (``file_row_number`` is Parquet's
            # only): a streaming row_number() straight over the scan numbers rows as read.
            number = "row_number() OVER ()"
            types = dict.fromkeys(header, "VARCHAR")
        elif fmt == "jsonl":
            found = sorted(
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT unnest(json_keys(json)) FROM "
                    f"read_json_objects({literal(str(readable))}, format='newline_delimited', "
                    f"{inflate})"
                ).fetchall()
            )
            if not found:
                raise InputError(
                    f"{path}: no JSON objects with keys found",
                    hint="JSON Lines holds one object per line, not one JSON array",
                )
            check_columns(path, found, mapping)
            columns = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in found) + "}"
            reader = (
                f"read_json({literal(str(readable))}, format='newline_delimited', "
                f"columns={columns}, {inflate})"
            )
            number = "row_number() OVER ()"
            types = dict.fromkeys(found, "VARCHAR")
        else:
            described = con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({literal(str(readable))})"
            ).fetchall()
            types = {r[0]: str(r[1]) for r in described}
            check_columns(path, list(types), mapping)
            reader = f"read_parquet({literal(str(readable))}, file_row_number=true)"
            number = "file_row_number + 1"
        # Text is trimmed (blank -> NULL) once here, not in every validation pass after. A
        # plain CSV's values are already: none has a space at either end, and DuckDB's reader
        # gives an empty field as NULL (docs/decisions/0124).
        plain = plain and fmt == "csv"
        cols = ", ".join(
            f"{trimmed_sql(ident(c))} AS {ident(c)}"
            if t.upper() == "VARCHAR" and not plain
            else ident(c)
            for c, t in types.items()
        )
        source = f"(SELECT {cols}, {number} AS {ROW_NO} FROM {reader})"
        kind = "TABLE" if "." in table else "TEMP TABLE"  # a qualified name: an attached file
        con.execute(f"CREATE OR REPLACE {kind} {table} AS {staging(source, types, plain)}")
        return types
    except duckdb.Error as exc:
        text = str(exc)
        if isinstance(exc, duckdb.IOException) and "GZIP" in text:
            raise unreadable_gzip(path, text.split(": ", 1)[-1].split(":", 1)[0]) from None
        if fmt != "parquet" and ("not utf-8 encoded" in text or "invalid UTF-8" in text):
            raise _NotUtf8 from None
        msg = _duck_message(exc)
        if fmt == "parquet":
            raise InputError(
                f"{path}: not a readable Parquet file ({msg})",
                hint="the file may be truncated or corrupt; export it again",
            ) from None
        what = {"csv": "CSV", "jsonl": "JSON Lines"}[fmt]
        raise InputError(f"{path}: malformed {what}: {msg}") from None


def _stage_text_or_parquet(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    mapping: Mapping,
    fmt: FileFormat,
    table: str,
    staging: Staging,
    declared: str | None,
    copy_to: Callable[[], Path],
    plain: bool,
) -> tuple[str | None, dict[str, str]]:
    """Stage the file as UTF-8 as it is, else transcoded to a copy at ``copy_to()``; its
    encoding and column types. ``plain`` (proven of the file's own bytes) holds only when they
    are read."""
    enc: str | None = None
    readable = path
    if fmt != "parquet":
        enc = "utf-8"
        if declared is not None and _codec(declared) not in _UTF8:
            enc, _ = _resolve_encoding(path, declared)
            readable = copy_to()
            _transcode(path, enc, readable)
    try:
        return enc, _stage(
            con, path, readable, mapping, fmt, table, staging, plain and readable == path
        )
    except _NotUtf8:
        enc, transcode = _resolve_encoding(path, declared)
        if not transcode:  # DuckDB and Python disagree about the bytes: say where
            raise EncodingError(f"{path}: not valid UTF-8") from None
        copy = copy_to()
        _transcode(path, enc, copy)
        try:
            return enc, _stage(con, path, copy, mapping, fmt, table, staging)
        except _NotUtf8:
            raise EncodingError(f"{path}: not valid {enc}") from None


@contextmanager
def open_raw(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    mapping: Mapping,
    encoding: str | None,
    *,
    table: str = "raw",
    staging: Staging = _as_read,
    plain: bool = False,
) -> Iterator[RawFile]:
    """Stage ``path`` as temp ``table`` (or, named ``db.table``, a table of attached database
    ``db``) through ``staging`` (by default: every column as read, trimmed, and ``ROW_NO``),
    dropped on exit. ``plain``: a ``PlainScan`` of the file's content
    found it plain (used for a CSV read as UTF-8).

    Text is read as UTF-8 first (DuckDB validates it while reading, so clean files cost no
    extra pass); only a file that fails is scanned for its encoding and transcoded, to a copy
    in a ``credo-ingest-*`` folder made then and removed as soon as the table is staged (the
    table holds the rows): a load of UTF-8 leaves no folder behind even when it is killed, and
    the copy does not share the disk with the rest of the load (docs/decisions/0988).
    """
    fmt = mapping.file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0 or (compression(path) == "gzip" and _inflates_to_nothing(path)):
        raise InputError(f"{path}: the file is empty")
    declared = encoding or mapping.encoding
    with ExitStack() as scratch:

        def copy_to() -> Path:
            folder = scratch.enter_context(tempfile.TemporaryDirectory(prefix="credo-ingest-"))
            return Path(folder) / _COPY_NAME

        try:
            enc, types = _stage_text_or_parquet(
                con, path, mapping, fmt, table, staging, declared, copy_to, plain
            )
        except GZIP_ERRORS as exc:  # Python's own reads of a damaged .gz (header, encoding)
            raise unreadable_gzip(path, exc) from None
    try:
        rows = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        if rows == 0:
            raise InputError(f"{path}: no data rows (only a header)")
        yield RawFile(path, fmt, enc, types, rows, table)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")
