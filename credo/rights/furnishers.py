"""Notices of disputes to furnishers that load files (RULES R-FCRA-4: the furnisher hears of a
dispute, with all the person sent, within 5 business days).

A partner that furnished an item through the API gets a ``dispute`` webhook in the dispute's
own transaction (:mod:`credo.rights.disputes`). A source that loads files has no URL: its notice
is queued here, in the same transaction, due by the profile's
``disputes.furnisher_notice_business_days``, and leaves in an export the operator sends it
(``credo disputes furnisher-notices SOURCE --export DIR``, or
``POST /admin/furnisher-notices/{source}/export``), as bureaus send e-OSCAR ACDV batches. Each
export is audited and marks what it carried, so a notice leaves once; the queue shows what is
still pending and what is overdue. A notice names the item by the furnisher's own record id,
never the person's identifiers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from credo.errors import InputError
from credo.rights.jurisdiction import furnisher_rules
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.rows import insert, rows

__all__ = [
    "FurnisherExport",
    "add_business_days",
    "export_furnisher_notices",
    "furnisher_notices",
    "queue_furnisher_notice",
]


def add_business_days(at: dt.datetime, days: int) -> dt.datetime:
    """``days`` business days (Monday to Friday) after ``at``."""
    out = at
    while days > 0:
        out += dt.timedelta(days=1)
        if out.weekday() < 5:
            days -= 1
    return out


def queue_furnisher_notice(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    *,
    dispute_id: str,
    person_id: str,
    source: str,
    record_id: str,
    statement: str,
    evidence: str | None,
    at: dt.datetime,
) -> str:
    """Queue the notice of a new dispute for its file-loading furnisher (caller's transaction)."""
    days = furnisher_rules(store, source).disputes.furnisher_notice_business_days
    due = add_business_days(at, days)
    notice_id = new_id("fnt")
    payload = {
        "type": "dispute",
        "notice_id": notice_id,
        "dispute_id": dispute_id,
        "record": {"source": source, "record_id": record_id},
        "statement": statement,
        "evidence": evidence,
        "opened_at": at.isoformat(),
        "answer_by": due.isoformat(),
        "advice": "verify the record and answer before the dispute's deadline; an item not"
        " verified in time is removed",
    }
    insert(con, "furnisher_notices", {
        "notice_id": notice_id, "dispute_id": dispute_id, "person_id": person_id,
        "source": source, "kind": "dispute", "payload": json.dumps(payload),
        "created_at": at, "due_at": due,
    })  # fmt: skip
    return notice_id


def furnisher_notices(
    store: Store, *, source: str | None = None, pending: bool = True, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Queued notices, oldest first (only those not yet exported, unless ``pending`` is false),
    each saying whether it is overdue."""
    at = now_or(now)
    found = rows(
        store.con,
        "SELECT notice_id, dispute_id, source, kind, payload, created_at, due_at, exported_at,"
        " export_file FROM furnisher_notices WHERE source = coalesce(?, source)"
        " AND (NOT ? OR exported_at IS NULL) ORDER BY created_at, notice_id",
        [source, pending],
    )
    for n in found:
        n["payload"] = json.loads(n["payload"])
        n["overdue"] = n["exported_at"] is None and n["due_at"] < at
    return found


@dataclass(frozen=True)
class FurnisherExport:
    source: str
    notices: int
    file: str | None
    exported_at: dt.datetime
    payloads: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_furnisher_notices(
    store: Store,
    source: str,
    folder: Path | None = None,
    *,
    actor: str = "operator",
    now: dt.datetime | None = None,
) -> FurnisherExport:
    """Hand over every pending notice of ``source``: written as JSON lines to a new file in
    ``folder`` (or returned only, for the API's answer), marked exported, audited."""
    at = now_or(now)
    pending = furnisher_notices(store, source=source, now=at)
    if not source.strip():
        raise InputError("field source: name the furnisher's source")
    path = None
    if folder is not None:
        if not folder.is_dir():
            raise InputError(f"field export: {folder} is not a folder")
        path = folder / f"{source}-disputes-{at:%Y%m%dT%H%M%S}.jsonl"
        if path.exists():
            raise InputError(f"field export: {path} exists", hint="export again in a second")
    payloads = tuple(n["payload"] for n in pending)
    entry = AuditEntry(
        actor, "furnisher_notices.export", f"source:{source}", "dispute notice to furnisher",
        {"notices": [n["notice_id"] for n in pending], "file": str(path) if path else None},
    )  # fmt: skip
    with store.write(entry) as con:
        if path is not None:
            text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in payloads)
            path.write_text(text, encoding="utf-8")
        con.execute(
            "UPDATE furnisher_notices SET exported_at = ?, export_file = ?"
            " WHERE list_contains(?, notice_id)",
            [at, str(path) if path else "api", [n["notice_id"] for n in pending]],
        )
    return FurnisherExport(source, len(payloads), str(path) if path else None, at, payloads)
