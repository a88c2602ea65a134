"""Gzipped source files: opening their bytes, and checking them whole before a load.

DuckDB reads a ``.gz`` file natively (``compression='gzip'``) and stops on a truncated one, but
it does not check the gzip trailer's CRC-32 (seen with DuckDB 2.0.1: a file whose checksum is
wrong loads without a word), so damage that still inflates would go in as data. The file is
therefore inflated once in Python while it is hashed, which checks every member's CRC and
length, and a damaged file is refused before anything is staged (docs/decisions/0123).
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

from credo.errors import InputError
from credo.ingest.mapping import compression

__all__ = ["GZIP_ERRORS", "open_bytes", "sha256_checked", "unreadable_gzip"]

_CHUNK = 1 << 20

GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
"""What Python's gzip and zlib raise for a damaged or truncated stream."""


def unreadable_gzip(path: Path, why: object) -> InputError:
    """The error for a ``.gz`` file that does not inflate whole."""
    return InputError(
        f"{path}: not a readable gzip file ({why}); nothing was loaded",
        hint="the file may be truncated or corrupt; send it again",
    )


def open_bytes(path: Path) -> BinaryIO:
    """The file's content as bytes: inflated when its name ends in ``.gz``."""
    if compression(path) == "gzip":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def sha256_checked(path: Path, inspect: Callable[[bytes], None] | None = None) -> str:
    """SHA-256 of the file's bytes as delivered (compressed, for a ``.gz`` file: the load's
    identity is the file received); a ``.gz`` file is inflated alongside, every member to its
    end, so a truncated file, a bad CRC or trailing junk raise ``InputError`` here.
    ``inspect`` is given the file's content in order, inflated for a ``.gz`` file, in the same
    read (the load's ``PlainScan``)."""
    h = hashlib.sha256()
    gz = compression(path) == "gzip"
    inflate = zlib.decompressobj(wbits=31)
    members, pending = 0, False  # pending: the current member has begun but not ended
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
                if inspect is not None and not gz:
                    inspect(chunk)
                while gz and chunk:
                    pending = True
                    # Output is dropped as it comes (at most a chunk held) once ``inspect``
                    # has seen it: the checks zlib makes on the way (deflate stream, CRC-32,
                    # length) are what the pass is for.
                    while not inflate.eof:
                        out = inflate.decompress(chunk, _CHUNK)
                        chunk = inflate.unconsumed_tail
                        if inspect is not None:
                            inspect(out)
                        if not chunk and len(out) < _CHUNK:  # all in, all out: read on
                            break
                    if not inflate.eof:
                        break
                    members, pending = members + 1, False
                    chunk = inflate.unused_data
                    inflate = zlib.decompressobj(wbits=31)
    except zlib.error as exc:
        raise unreadable_gzip(path, exc) from None
    if gz and (pending or members == 0):
        raise unreadable_gzip(path, "it ends in the middle of the compressed stream")
    return h.hexdigest()
