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
from credo.rights.outbox import Outbox, export_path, queued, send
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.rows import insert

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


_NOTICES = Outbox("furnisher_notices", "notice_id", "source", ("dispute_id", "kind"))


def furnisher_notices(
    store: Store, *, source: str | None = None, pending: bool = True, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Queued notices, oldest first (only those not yet exported, unless ``pending`` is false),
    each saying whether it is overdue."""
    return queued(store, _NOTICES, source, pending=pending, at=now_or(now))


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
    if not source.strip():
        raise InputError("field source: name the furnisher's source")
    at = now_or(now)
    pending = furnisher_notices(store, source=source, now=at)
    path = export_path(folder, f"{source}-disputes-{at:%Y%m%dT%H%M%S}.jsonl")
    payloads = tuple(n["payload"] for n in pending)
    ids = [n["notice_id"] for n in pending]
    entry = AuditEntry(
        actor, "furnisher_notices.export", f"source:{source}", "dispute notice to furnisher",
        {"notices": ids, "file": str(path) if path else None},
    )  # fmt: skip
    send(store, _NOTICES, entry, ids, list(payloads), path, at)
    return FurnisherExport(source, len(payloads), str(path) if path else None, at, payloads)
