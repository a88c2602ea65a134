"""Queues of notices that leave in files the operator sends: dispute notices to furnishers
(R-FCRA-4, :mod:`credo.rights.furnishers`) and fraud-alert referrals to the other bureaus
(R-FCRA-16, :mod:`credo.rights.fraud_alerts`). One way of listing, exporting and marking, so
an item leaves once, every export is audited, and what is overdue shows the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.errors import InputError
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import rows

__all__ = ["Outbox", "export_path", "queued", "send"]


@dataclass(frozen=True)
class Outbox:
    """A queue table: its id column, the column naming the recipient, and its other columns."""

    table: str
    id_column: str
    to_column: str
    columns: tuple[str, ...]


def queued(
    store: Store, box: Outbox, to: str | None, *, pending: bool, at: dt.datetime
) -> list[dict[str, Any]]:
    """Items for ``to`` (everyone's: None), oldest first, only those not yet exported unless
    ``pending`` is false; each with its payload read and whether it is overdue at ``at``."""
    names = ", ".join((box.id_column, *box.columns, box.to_column, "payload", "created_at",
                       "due_at", "exported_at", "export_file"))  # fmt: skip
    found = rows(
        store.con,
        f"SELECT {names} FROM {box.table} WHERE {box.to_column} = coalesce(?, {box.to_column})"
        f" AND (NOT ? OR exported_at IS NULL) ORDER BY created_at, {box.id_column}",
        [to, pending],
    )
    for item in found:
        item["payload"] = json.loads(item["payload"])
        item["overdue"] = item["exported_at"] is None and item["due_at"] < at
    return found


def export_path(folder: Path | None, name: str) -> Path | None:
    """The new file an export writes in ``folder`` (None: the answer only, for the API)."""
    if folder is None:
        return None
    if not folder.is_dir():
        raise InputError(f"field export: {folder} is not a folder")
    path = folder / name
    if path.exists():
        raise InputError(f"field export: {path} exists", hint="export again in a second")
    return path


def send(
    store: Store,
    box: Outbox,
    entry: AuditEntry,
    ids: list[Any],
    payloads: list[dict[str, Any]],
    path: Path | None,
    at: dt.datetime,
) -> None:
    """Write ``payloads`` as JSON lines to ``path`` and mark ``ids`` exported, in the audited
    transaction of ``entry``: a failed write marks nothing."""
    with store.write(entry) as con:
        if path is not None:
            text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in payloads)
            path.write_text(text, encoding="utf-8")
        con.execute(
            f"UPDATE {box.table} SET exported_at = ?, export_file = ?"
            f" WHERE list_contains(?, {box.id_column})",
            [at, str(path) if path else "api", ids],
        )
