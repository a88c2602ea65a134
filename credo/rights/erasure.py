"""Erasure and restriction (RULES R-GDPR-4, R-GDPR-5, R-PIPL-4; docs/decisions/0643).

**Erasure** removes the person's data from every table that holds it: their events (and what
names them as a counterpart), the identity records and links built from those events, the
identifiers' ciphertexts no remaining event uses, scores, decisions, inquiries, disputes,
reviews and sign-in codes. What must outlive it is unreadable instead of removed: the audit
log's entries stay (the chain must verify) and hold only the person's pseudonymous id, with
any personal text sealed under the person's key (:mod:`credo.store.person_keys`), which the
erasure destroys. Partners that received a decision or report are told (GDPR Art. 19).

A **legal hold** refuses a request in part: a court listing still in force is kept, with the
records that identify it, and the request's answer names what was kept and why (R-PIPL-4:
reasons for a refusal). The rest is erased.

**Restriction** (Art. 18, and the pause an objection asks for, Art. 21) keeps every row but
stops processing: no decision, report or partner outcome until the person lifts it, and no
score: the monthly run and off-cycle re-scores hold the person (decision 0647). Lifting it
scores the person at once at the newest monthly date they missed.

Deleted rows leave their bytes in DuckDB's free blocks until the file is rewritten:
``erase`` checkpoints, and :func:`credo.store.compact.compact` rewrites the file, after which
a search of the file's bytes for the person's name finds nothing (the test does exactly that).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import duckdb

from credo.errors import ConflictError, NotFoundError
from credo.fairness.protected import forget_protected
from credo.features.pit import PointInTime
from credo.features.sql import listings_sql
from credo.identity.records import event_record_key_sql
from credo.policy.rules import active_rules
from credo.rights.audited import person_exists
from credo.rights.consent import is_restricted, require_not_restricted
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.person_keys import shred
from credo.store.rows import insert, one, rows, value
from credo.store.schema import EVENT_TABLES
from credo.webhooks import enqueue

__all__ = [
    "Hold",
    "RightsRequest",
    "catch_up",
    "erase",
    "is_restricted",
    "legal_holds",
    "lift_restriction",
    "list_requests",
    "require_not_restricted",
    "restrict",
]

Status = Literal["done", "refused_in_part"]


@dataclass(frozen=True)
class Hold:
    """A part of a request refused, and the reason (R-PIPL-4)."""

    reason: str
    """``court_listing_in_force``: the court's list is public law; the listing stays until the
    court lifts it or its term ends."""
    court: str
    case_number: str
    event_ids: tuple[int, ...]


@dataclass(frozen=True)
class RightsRequest:
    request_id: str
    person_id: str
    kind: str
    requested_at: dt.datetime
    status: str
    completed_at: dt.datetime | None
    removed: dict[str, int]
    refused: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def legal_holds(store: Store, person_id: str, *, now: dt.datetime | None = None) -> list[Hold]:
    """Court listings of the person in force now, each with every record of its case; a listing
    still in its grace after the notice (R-BL-2) is the court's record too, and held."""
    at = now_or(now)
    pit = PointInTime(at.date(), at)
    held = rows(
        store.con,
        f"SELECT court, case_number FROM ({listings_sql(pit, grace_months=0)}) l"
        " WHERE person_id = ?"
        " ORDER BY court, case_number",
        [person_id],
    )
    out = []
    for h in held:
        ids = rows(
            store.con,
            "SELECT e.event_id FROM events e JOIN event_persons p ON p.event_id = e.event_id"
            " AND p.role = 'subject' AND p.person_id = ? WHERE e.event_type = 'court_judgment'"
            " AND e.court = ? AND e.case_number = ? ORDER BY e.event_id",
            [person_id, h["court"], h["case_number"]],
        )
        event_ids = tuple(int(r["event_id"]) for r in ids)
        out.append(Hold("court_listing_in_force", h["court"], h["case_number"], event_ids))
    return out


def erase(
    store: Store, person_id: str, *, actor: str | None = None, now: dt.datetime | None = None
) -> RightsRequest:
    """Erase the person's data except what a legal hold keeps, in one audited write."""
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    status = value(store.con, "SELECT status FROM persons WHERE person_id = ?", [person_id])
    if status == "erased":
        raise ConflictError(f"person {person_id!r} was already erased")
    at = now_or(now)
    holds = legal_holds(store, person_id, now=at)
    kept = [i for h in holds for i in h.event_ids]
    request_id = new_id("rq")
    entry = AuditEntry(
        actor or f"person:{person_id}", "erasure", f"person:{person_id}", "erasure request",
        {"request_id": request_id, "held_events": kept},
    )  # fmt: skip
    with store.write(entry) as con:
        _tell_partners(con, person_id, at)
        removed = _remove(con, person_id, kept)
        removed["key"] = int(shred(con, person_id))
        con.execute(
            "UPDATE persons SET status = ? WHERE person_id = ?",
            ["erased" if not kept else "erased_in_part", person_id],
        )
        # What the person wrote in earlier requests (an objection's grounds) goes too.
        con.execute(
            "UPDATE request_tracking SET statement = NULL, outcome_note = NULL,"
            " extension_reason = NULL WHERE request_id IN"
            " (SELECT request_id FROM rights_requests WHERE person_id = ?)",
            [person_id],
        )
        refused = [asdict(h) for h in holds]
        days = active_rules(store.settings).notices.request_response_days
        insert(con, "rights_requests", {
            "request_id": request_id, "person_id": person_id, "kind": "erasure",
            "requested_at": at, "status": "refused_in_part" if holds else "done",
            "completed_at": at, "removed": json.dumps(removed),
            "refused": json.dumps(refused, ensure_ascii=False),
        })  # fmt: skip
        insert(con, "request_tracking",
               {"request_id": request_id, "due_at": at + dt.timedelta(days=days)})  # fmt: skip
    # The deleted rows leave the write-ahead log; their blocks are free, not yet overwritten.
    store.con.execute("CHECKPOINT")
    return _request(store, request_id)


def _tell_partners(con: duckdb.DuckDBPyConnection, person_id: str, at: dt.datetime) -> None:
    """GDPR Art. 19: each recipient of a decision or report on the person is told."""
    partners = rows(
        con,
        "SELECT DISTINCT partner_id FROM inquiries WHERE person_id = ? ORDER BY partner_id",
        [person_id],
    )
    for p in partners:
        payload = {"type": "erasure", "person": person_id, "erased_at": at,
                   "advice": "the person's data was erased at their request: erase what you"
                   " received about them (GDPR Arts. 17 and 19)"}  # fmt: skip
        enqueue(con, p["partner_id"], payload, at)


_BY_PERSON = (
    "score_snapshots", "points_ledger", "points_balances", "decisions", "inquiries", "freezes",
    "restrictions", "disputes", "human_reviews", "login_codes", "fraud_alerts",
    "furnisher_notices", "alert_referrals",
)  # fmt: skip
"""Tables keyed by person whose rows about the person all go."""

_COUNTERPART = (
    "counterpart_ref",
    "counterpart_name",
    "counterpart_national_id_hash",
    "counterpart_phone_hash",
)


def _remove(con: duckdb.DuckDBPyConnection, person_id: str, kept: list[int]) -> dict[str, int]:
    """Delete what is the person's (inside the caller's transaction); rows removed per kind."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE credo_erase AS SELECT event_id, role FROM event_persons"
        " WHERE person_id = ? AND NOT list_contains(?::BIGINT[], event_id)",
        [person_id, kept],
    )
    try:
        return _remove_marked(con, person_id)
    finally:
        con.execute("DROP TABLE IF EXISTS credo_erase")


def _remove_marked(con: duckdb.DuckDBPyConnection, person_id: str) -> dict[str, int]:
    removed: dict[str, int] = {}
    subject = "SELECT event_id FROM credo_erase WHERE role = 'subject'"
    counterpart = "SELECT event_id FROM credo_erase WHERE role = 'counterpart'"
    hashes = (
        "SELECT h FROM (SELECT unnest([national_id_hash, phone_hash, counterpart_national_id_hash,"
        f" counterpart_phone_hash]) AS h FROM events WHERE event_id IN ({subject})"
        " UNION ALL SELECT unnest([counterpart_national_id_hash, counterpart_phone_hash]) FROM"
        f" events WHERE event_id IN ({counterpart})) WHERE h IS NOT NULL"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE credo_erase_hashes AS {hashes}")
    held = (
        f"SELECT {event_record_key_sql('e')} FROM events e JOIN event_persons p USING (event_id)"
        " WHERE p.person_id = ? AND p.role = 'subject'"
        " AND e.event_id NOT IN (SELECT event_id FROM credo_erase)"
    )
    try:
        removed["identity_records"] = _count(
            con, f"DELETE FROM identity_records WHERE person_id = ? AND record_id NOT IN ({held})",
            [person_id, person_id],
        )  # fmt: skip
        gone = "(SELECT record_id FROM identity_records)"
        for table in ("identity_links", "identity_reviews"):
            removed[table] = _count(
                con, f"DELETE FROM {table} WHERE record_l NOT IN {gone} OR record_r NOT IN {gone}"
            )
        removed["identity_changes"] = _count(
            con, "DELETE FROM identity_changes WHERE person_id = ?"
            " OR list_contains(other_person_ids, ?)", [person_id, person_id],
        )  # fmt: skip
        removed["events"] = 0
        for table in EVENT_TABLES.values():
            removed["events"] += _count(con, f"DELETE FROM {table} WHERE event_id IN ({subject})")
        scrub = ", ".join(f"{c} = NULL" for c in _COUNTERPART)
        removed["counterpart_mentions"] = _count(
            con, f"UPDATE events_connection SET {scrub} WHERE event_id IN ({counterpart})"
        )
        removed["event_links"] = _count(
            con, "DELETE FROM event_persons WHERE person_id = ? AND event_id IN"
            " (SELECT event_id FROM credo_erase)", [person_id],
        )  # fmt: skip
        used = " OR ".join(
            f"e.{c} = v.hash" for c in ("national_id_hash", "phone_hash",
                                        "counterpart_national_id_hash", "counterpart_phone_hash")
        )  # fmt: skip
        removed["identifiers"] = _count(
            con, "DELETE FROM pii_vault v WHERE v.hash IN (SELECT h FROM credo_erase_hashes)"
            f" AND NOT EXISTS (SELECT 1 FROM events e WHERE {used})"
            " AND NOT EXISTS (SELECT 1 FROM identity_records r WHERE"
            " r.national_id_hash = v.hash OR r.phone_hash = v.hash)",
        )  # fmt: skip
        # Protected attributes (SPEC S11) are keyed by the same identifier hashes: the
        # person's go with their identifiers; a hash still on file for someone else stays.
        removed["protected"] = forget_protected(
            con, "SELECT h FROM credo_erase_hashes v WHERE v.h NOT IN (SELECT hash FROM pii_vault)"
        )
    finally:
        con.execute("DROP TABLE IF EXISTS credo_erase_hashes")
    for table in _BY_PERSON:
        removed[table] = _count(con, f"DELETE FROM {table} WHERE person_id = ?", [person_id])
    return removed


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    result = con.execute(sql, params or []).fetchall()
    return int(result[0][0]) if result else 0


def _request(store: Store, request_id: str) -> RightsRequest:
    row = one(store.con, "SELECT * FROM rights_requests WHERE request_id = ?", [request_id])
    if row is None:
        raise NotFoundError(f"no request {request_id!r}")
    return _as_request(row)


def _as_request(row: dict[str, Any]) -> RightsRequest:
    return RightsRequest(
        **{k: v for k, v in row.items() if k not in ("removed", "refused")},
        removed=json.loads(row["removed"]),
        refused=json.loads(row["refused"]),
    )


def list_requests(store: Store, person_id: str) -> list[RightsRequest]:
    """The person's requests, newest first: what was done, what was refused and why."""
    found = rows(
        store.con,
        "SELECT * FROM rights_requests WHERE person_id = ? ORDER BY requested_at DESC",
        [person_id],
    )
    return [_as_request(r) for r in found]


def _set_restriction(store: Store, person_id: str, action: str, now: dt.datetime | None) -> None:
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    entry = AuditEntry(
        f"person:{person_id}", f"processing.{action}", f"person:{person_id}", "restriction"
    )
    with store.write(entry) as con:
        row = {"person_id": person_id, "action": action, "changed_at": now_or(now)}
        insert(con, "restrictions", row)


def restrict(store: Store, person_id: str, *, now: dt.datetime | None = None) -> None:
    """Stop processing, keep the data (GDPR Art. 18; Art. 21 pending the assessment)."""
    _set_restriction(store, person_id, "restrict", now)


def lift_restriction(store: Store, person_id: str, *, now: dt.datetime | None = None) -> None:
    """Processing resumes; a monthly run that held the person is caught up at once."""
    _set_restriction(store, person_id, "lift", now)
    catch_up(store, person_id)


def catch_up(store: Store, person_id: str) -> str | None:
    """Score a person the newest monthly run held (restricted then), at that run's date, so the
    next decision is not made on a score older than everyone else's; the run id, or ``None``
    when nothing was missed (or the person is not scored at all)."""
    from credo.scoring import latest_snapshot, rescore_person

    last = latest_snapshot(store, person_id)
    if last is None:
        return None
    newest = value(store.con, "SELECT max(as_of) FROM score_runs WHERE kind = 'monthly'")
    if newest is None or newest <= last.as_of:
        return None
    try:
        return rescore_person(store, person_id, newest).run_id
    except NotFoundError:  # left, or restricted again meanwhile
        return None
