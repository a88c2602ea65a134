"""The request tracker: every request a person makes, with its deadline (RULES R-GDPR-1,
R-GDPR-3, R-GDPR-5; docs/decisions/0670).

GDPR Art. 12(3) gives one month to answer a data subject's request, extendable by two more
with notice and reasons given within the first month. The profile holds both figures
(``notices.request_response_days``, ``notices.request_extension_days``). The tracker reads
every kind of request from the table that records it, so no path can forget to register one:

- ``rights_requests``: erasure, access (the export), objection (Art. 21);
- ``disputes``: corrections (Art. 16 rectification, R-GDPR-3), on the dispute clock;
- ``human_reviews``: a human review of a decision or of the score (Art. 22).

A request is **overdue** while it is still open past its (possibly extended) deadline; the
operator's console lists the open ones, nearest deadline first, overdue ones marked.

An **objection** (Art. 21) restricts processing at once, pending the operator's assessment:
upheld, the person's data is erased (Art. 17(1)(c)); rejected, the operator must state the
compelling legitimate grounds, the person sees them, and the restriction the objection placed
is lifted. Both outcomes are audited, the reasons sealed under the person's key.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import duckdb

from credo.errors import ConflictError, InputError, NotFoundError
from credo.policy.rules import active_rules
from credo.rights.audited import person_exists
from credo.rights.consent import is_restricted
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.person_keys import seal
from credo.store.rows import insert, one, rows

__all__ = [
    "Tracked",
    "decide_objection",
    "extend_request",
    "object_to_processing",
    "open_request",
    "tracker",
]

RequestKind = Literal["erasure", "access", "objection", "correction", "review"]
ObjectionOutcome = Literal["upheld", "rejected"]

_OPEN_DISPUTE = ("open", "appealed")


@dataclass(frozen=True)
class Tracked:
    """One request of a person, whatever table holds it."""

    request_id: str
    person_id: str
    kind: str
    requested_at: dt.datetime
    due_at: dt.datetime
    status: str
    open: bool
    completed_at: dt.datetime | None
    overdue: bool
    """Open past its deadline now, or answered after it."""
    extended: bool
    extension_reason: str | None
    statement: str | None
    """What the person wrote (an objection's grounds, a dispute's or review's statement)."""
    outcome_note: str | None
    refused: list[dict[str, Any]]
    """What a request was refused in part, and why (R-PIPL-4: a legal hold)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_REQUEST = (
    "r.request_id, r.person_id, r.kind, r.requested_at, r.status, r.completed_at, r.removed,"
    " r.refused, coalesce(t.due_at, r.requested_at + to_days(?)) AS due_at, t.extended_at,"
    " t.extension_reason, t.statement, t.outcome_note FROM rights_requests r"
    " LEFT JOIN request_tracking t USING (request_id) WHERE r.person_id = coalesce(?, r.person_id)"
)
"""A rights request with its tracking; one recorded before the tracker was built (migration 14)
is due a response period after it was made."""


def _days(store: Store) -> tuple[int, int]:
    notices = active_rules(store.settings).notices
    return notices.request_response_days, notices.request_extension_days


def open_request(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    person_id: str,
    kind: RequestKind,
    at: dt.datetime,
    *,
    status: str,
    statement: str | None = None,
    removed: dict[str, Any] | None = None,
    refused: list[dict[str, Any]] | None = None,
) -> str:
    """Record a request in ``rights_requests`` (inside the caller's write), due by the
    profile's response days; done at once unless ``status`` is ``open``."""
    request_id = new_id("rq")
    days, _ = _days(store)
    insert(con, "rights_requests", {
        "request_id": request_id, "person_id": person_id, "kind": kind, "requested_at": at,
        "status": status, "completed_at": None if status == "open" else at,
        "removed": json.dumps(removed or {}),
        "refused": json.dumps(refused or [], ensure_ascii=False),
    })  # fmt: skip
    insert(con, "request_tracking", {
        "request_id": request_id, "due_at": at + dt.timedelta(days=days), "statement": statement,
    })  # fmt: skip
    return request_id


def tracker(
    store: Store,
    person_id: str | None = None,
    *,
    open_only: bool = False,
    now: dt.datetime | None = None,
) -> list[Tracked]:
    """Every request (of one person, or everyone's), nearest deadline first."""
    at = now_or(now)
    found: list[Tracked] = []
    for r in rows(
        store.con,
        f"SELECT {_REQUEST}",
        [_days(store)[0], person_id],
    ):
        is_open = r["status"] == "open"
        found.append(_tracked(r, r["kind"], is_open, r["extended_at"] is not None, at))
    for d in rows(
        store.con,
        "SELECT dispute_id AS request_id, person_id, opened_at AS requested_at, due_at, status,"
        " resolved_at AS completed_at, extended_at, statement, note AS outcome_note FROM disputes"
        " WHERE person_id = coalesce(?, person_id)",
        [person_id],
    ):
        is_open = d["status"] in _OPEN_DISPUTE
        reason = "new evidence" if d["extended_at"] is not None else None
        found.append(
            _tracked(d | {"extension_reason": reason}, "correction", is_open,
                     d["extended_at"] is not None, at)
        )  # fmt: skip
    for v in rows(
        store.con,
        "SELECT review_id AS request_id, person_id, requested_at, due_at, status,"
        " decided_at AS completed_at, statement, outcome_note FROM human_reviews"
        " WHERE person_id = coalesce(?, person_id)",
        [person_id],
    ):
        found.append(_tracked(v | {"extension_reason": None}, "review", v["status"] == "open",
                              False, at))  # fmt: skip
    if open_only:
        found = [t for t in found if t.open]
    found.sort(key=lambda t: (not t.open, t.due_at, t.request_id))
    return found


def _tracked(
    r: dict[str, Any], kind: str, is_open: bool, extended: bool, at: dt.datetime
) -> Tracked:
    due = r["due_at"]
    done = r["completed_at"]
    overdue = (is_open and at > due) or (not is_open and done is not None and done > due)
    return Tracked(
        request_id=r["request_id"], person_id=r["person_id"], kind=kind,
        requested_at=r["requested_at"], due_at=due, status=r["status"], open=is_open,
        completed_at=None if is_open else done, overdue=overdue, extended=extended,
        extension_reason=r["extension_reason"], statement=r["statement"],
        outcome_note=r["outcome_note"],
        refused=json.loads(r["refused"]) if r.get("refused") else [],
    )  # fmt: skip


def _row(store: Store, request_id: str) -> dict[str, Any]:
    row = one(
        store.con, f"SELECT {_REQUEST} AND r.request_id = ?", [_days(store)[0], None, request_id]
    )
    if row is None:
        raise NotFoundError(f"no request {request_id!r}")
    return row


def _one(store: Store, request_id: str, now: dt.datetime | None) -> Tracked:
    person_id = _row(store, request_id)["person_id"]
    return next(t for t in tracker(store, person_id, now=now) if t.request_id == request_id)


def extend_request(
    store: Store,
    request_id: str,
    reason: str,
    *,
    actor: str = "operator",
    now: dt.datetime | None = None,
) -> Tracked:
    """Extend an open request's deadline once by ``notices.request_extension_days``, with
    reasons the person sees, and only within the first period (Art. 12(3))."""
    if not reason.strip():
        raise InputError("field reason: say why the request needs longer")
    row = _row(store, request_id)
    at = now_or(now)
    _, extension = _days(store)
    if row["status"] != "open":
        raise ConflictError(f"request {request_id} is already {row['status']}")
    if row["extended_at"] is not None:
        raise ConflictError(f"request {request_id} was already extended once")
    if extension == 0:
        raise ConflictError("the rules profile allows no extension of a request")
    if at > row["due_at"]:
        raise ConflictError(
            f"request {request_id} is past its deadline of {row['due_at']:%Y-%m-%d}",
            hint="an extension must be given, with its reasons, within the first period",
        )
    entry = AuditEntry(
        actor, "request.extend", f"person:{row['person_id']}", "request deadline",
        {"request_id": request_id, "days": extension,
         **seal(store, row["person_id"], {"reason": reason})},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "INSERT INTO request_tracking (request_id, due_at) VALUES (?, ?)"
            " ON CONFLICT (request_id) DO NOTHING",
            [request_id, row["due_at"]],
        )
        con.execute(
            "UPDATE request_tracking SET due_at = due_at + to_days(?), extended_at = ?,"
            " extension_reason = ? WHERE request_id = ?",
            [extension, at, reason, request_id],
        )
    return _one(store, request_id, at)


def object_to_processing(
    store: Store, person_id: str, grounds: str, *, now: dt.datetime | None = None
) -> Tracked:
    """The person objects (Art. 21): processing stops at once (a restriction) until the
    operator assesses the objection by its deadline."""
    if not grounds.strip():
        raise InputError("field grounds: say why you object to the processing")
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    if store.scalar(
        "SELECT count(*) FROM rights_requests WHERE person_id = ? AND kind = 'objection'"
        " AND status = 'open'",
        [person_id],
    ):
        raise ConflictError("an objection of yours is already being assessed")
    at = now_or(now)
    placed = not is_restricted(store, person_id)
    entry = AuditEntry(
        f"person:{person_id}", "objection.request", f"person:{person_id}", "objection",
        {"restricted": placed},
    )  # fmt: skip
    with store.write(entry) as con:
        request_id = open_request(
            con, store, person_id, "objection", at, status="open", statement=grounds,
            removed={"placed_restriction": placed},
        )  # fmt: skip
        if placed:
            insert(con, "restrictions",
                   {"person_id": person_id, "action": "restrict", "changed_at": at})  # fmt: skip
    return _one(store, request_id, at)


def decide_objection(
    store: Store,
    request_id: str,
    outcome: ObjectionOutcome,
    note: str,
    *,
    actor: str = "operator",
    now: dt.datetime | None = None,
) -> Tracked:
    """Record the assessment. ``rejected``: the note states the compelling legitimate grounds
    and the restriction the objection placed is lifted (the person is caught up).
    ``upheld``: the caller erases the person's data (the service rewrites the file too)."""
    if not note.strip():
        raise InputError("field note: give the grounds of the assessment")
    row = _row(store, request_id)
    if row["kind"] != "objection":
        raise NotFoundError(f"no objection {request_id!r}")
    if row["status"] != "open":
        raise ConflictError(f"objection {request_id} is already {row['status']}")
    at = now_or(now)
    person_id = row["person_id"]
    lift = outcome == "rejected" and json.loads(row["removed"]).get("placed_restriction")
    entry = AuditEntry(
        actor, f"objection.{outcome}", f"person:{person_id}", "objection",
        {"request_id": request_id, **seal(store, person_id, {"note": note})},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "UPDATE rights_requests SET status = ?, completed_at = ? WHERE request_id = ?",
            [outcome, at, request_id],
        )
        con.execute(
            "UPDATE request_tracking SET outcome_note = ?, decided_by = ? WHERE request_id = ?",
            [note, actor, request_id],
        )
        if lift:
            insert(con, "restrictions",
                   {"person_id": person_id, "action": "lift", "changed_at": at})  # fmt: skip
    if lift:
        from credo.rights.erasure import catch_up

        catch_up(store, person_id)
    return _one(store, request_id, at)
