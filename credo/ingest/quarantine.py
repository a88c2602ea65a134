"""Reading the quarantine: the rejected field values of every load, with where they came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from credo.store.rows import rows

if TYPE_CHECKING:
    from credo.store.db import Store

__all__ = ["QuarantinePage", "quarantined"]


@dataclass(frozen=True)
class QuarantinePage:
    """Up to ``limit`` rejected values (``rows``) of the ``total`` that match the filters."""

    total: int
    rows: list[dict[str, Any]]


def quarantined(
    store: Store, *, source: str | None = None, load: int | None = None, limit: int = 50
) -> QuarantinePage:
    """Rejected values in load, row and field order; each row names its load, source, file,
    row number, field, reason and raw value."""
    where: list[str] = []
    params: list[Any] = []
    if source is not None:
        where.append("source = ?")
        params.append(source)
    if load is not None:
        where.append("load_id = ?")
        params.append(load)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    total = store.scalar(f"SELECT count(*) FROM quarantine {clause}", params)
    found = rows(
        store.con,
        'SELECT load_id AS "load", source, file_name AS file, row_no AS "row", field, reason,'
        f" raw_value AS value FROM quarantine {clause} ORDER BY load_id, row_no, field LIMIT ?",
        [*params, limit],
    )
    return QuarantinePage(total=total, rows=found)
