"""Rewrite the database file so that deleted rows leave no bytes behind (docs/decisions/0643).

DuckDB frees the blocks of deleted rows but does not overwrite them: after an erasure and a
checkpoint, the erased person's name is still in the file's free blocks (measured: see the
decision record). ``Store.rewrite`` copies every table into a fresh file (``COPY FROM
DATABASE``) and moves it over the old one in one rename, so a crash leaves either the old file
or the new one, never half of one; this is the same for a command run without the server.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from credo.settings import Settings
from credo.store.db import Store

__all__ = ["CompactReport", "compact"]


@dataclass(frozen=True)
class CompactReport:
    bytes_before: int
    bytes_after: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compact(settings: Settings) -> CompactReport:
    """Rewrite ``settings.db`` with its live rows only. Needs the file to itself: with
    ``credo serve`` running, the open refuses with the server named (``StoreLockedError``)."""
    started = time.perf_counter()
    with Store.open(settings, create=False) as store:
        before, after = store.rewrite()
    return CompactReport(before, after, round(time.perf_counter() - started, 2))
