"""Audited reads and the events the service writes itself (consents, outcomes, corrections).

Reads of personal data are audited like writes (SPEC S12): :func:`audited_read` appends an
entry through ``Store.write``, the one audited path, with nothing else in the transaction.
Events the service writes (consents, partner outcomes, corrections) are validated by the same
pydantic models that define the ingest catalogue and stored with ``load_id`` 0 (no file), the
writer as ``source`` and a subject link to the person, so scoring reads them like any other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from credo.errors import ConflictError, InputError
from credo.ingest.events import PII_FIELDS, EventBase
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import insert, value
from credo.store.schema import event_table

__all__ = ["SERVICE_LOAD_ID", "append_event", "audited_read", "person_exists"]

SERVICE_LOAD_ID = 0
"""``load_id`` of events the service writes itself rather than loading from a file."""


def audited_read(
    store: Store,
    actor: str,
    action: str,
    target: str,
    purpose: str,
    details: dict[str, Any] | None = None,
) -> None:
    store.audit(AuditEntry(actor, action, target, purpose, details or {}))


def append_event(
    con: duckdb.DuckDBPyConnection,
    event: EventBase,
    *,
    source: str,
    person_id: str,
    recorded_at: dt.datetime,
    future_tolerance: dt.timedelta = dt.timedelta(hours=36),
) -> int:
    """Insert one validated event and its subject link inside the caller's transaction."""
    data = event.model_dump(exclude_none=True)
    given_pii = [f for f in PII_FIELDS if f in data]
    if given_pii:
        raise InputError(f"field {given_pii[0]}: identifiers are not accepted here")
    if event.occurred_at.replace(tzinfo=None) > recorded_at + future_tolerance:
        raise InputError(f"field occurred_at: {event.occurred_at} is in the future")
    data["occurred_at"] = event.occurred_at.replace(tzinfo=None)
    if value(
        con,
        "SELECT count(*) FROM events WHERE source = ? AND source_record_id = ?",
        [source, event.source_record_id],
    ):
        raise ConflictError(
            f"field source_record_id: {event.source_record_id!r} was already used by {source}",
            hint="each record needs its own id",
        )
    event_id = int(value(con, "SELECT coalesce(max(event_id), 0) + 1 FROM events"))
    row = {
        "event_id": event_id,
        "source": source,
        "load_id": SERVICE_LOAD_ID,
        "row_no": 0,
        "recorded_at": recorded_at,
        **data,
    }
    table = event_table(str(row.pop("event_type")))  # the table is the type (migration 17)
    insert(con, table, row)
    link = {"event_id": event_id, "role": "subject", "person_id": person_id}
    insert(con, "event_persons", link | {"linked_at": recorded_at})
    return event_id


def person_exists(store: Store, person_id: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM persons WHERE person_id = ?", [person_id]))
