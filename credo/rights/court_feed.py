"""The court's own feed: a satisfaction or withdrawal lifts a listing at once (RULES R-BL-3,
R-BL-6; SPC provisions Art. 10: delete within 3 working days).

The court list publishes updates as records of their own: the same court and case number with
the status ``satisfied`` or ``revoked``. Such a record is attributed to the person the case's
listing is linked to (the court names the case, and the listing already went through identity
resolution), so it counts without waiting for the next resolution or monthly run. On arrival
it is committed with a notice in the webhook outbox for every partner that received a decision
or report on the person since the listing was recorded, then the person is re-scored at once
through the same path as a dispute's correction (:func:`credo.rights.disputes.rescore_now`),
so the next decision sees neither the cap nor the restriction.

Two ways in: :func:`record_court_update` for one record sent to the service, and
:func:`apply_court_feed` after a file load (``credo ingest`` calls it for every load). A term's
end is Credo's own clock too: :func:`expire_listings` (run daily; the server does it) writes
an ``expired`` record for each listing whose fixed term (``court_list.term_years`` of the rules
profile, triggers (2)-(6) only) has run out, and acts on it the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from credo.errors import NotFoundError
from credo.features import PointInTime, listings_sql
from credo.ingest.events import CourtJudgmentEvent
from credo.policy.rules import active_rules
from credo.rights.audited import append_event
from credo.rights.disputes import affected_partners, rescore_now
from credo.store.audit import AuditEntry
from credo.store.db import Store, now_or
from credo.store.person_keys import seal
from credo.store.rows import insert, one, rows
from credo.webhooks import enqueue

__all__ = [
    "LIFTING",
    "CourtUpdate",
    "apply_court_feed",
    "expire_listings",
    "record_court_update",
]

LIFTING = ("satisfied", "revoked", "expired")
"""Statuses that end a listing: performed, withdrawn by the court, or its term ended."""

TERM_SOURCE = "credo_court_term"
"""The source of the ``expired`` records Credo writes when a listing's term ends."""

NO_TERM_CONDUCT = "有履行能力而拒不履行"
"""Trigger (1) of Art. 1, refusing to perform while able: Art. 2's fixed term does not apply,
the listing lasts until performance or removal."""


@dataclass(frozen=True)
class CourtUpdate:
    event_id: int
    person_id: str
    court: str
    case_number: str
    status: str
    rescored_run_id: str | None
    notified: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _listing_of(con: duckdb.DuckDBPyConnection, court: str, case_number: str) -> dict[str, Any]:
    """The first listing record of a case, with the person it is linked to."""
    listing = one(
        con,
        "SELECT e.event_id, p.person_id FROM events e"
        " JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE e.event_type = 'court_judgment' AND e.judgment_status = 'listed'"
        " AND e.court = ? AND e.case_number = ? ORDER BY e.occurred_at, e.event_id LIMIT 1",
        [court, case_number],
    )
    if listing is None:
        raise NotFoundError(
            f"no listing of case {case_number!r} by {court!r}",
            hint="a new listing arrives through 'credo ingest' and identity resolution",
        )
    return listing


def _notify(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    listing: dict[str, Any],
    update: dict[str, Any],
    at: dt.datetime,
) -> dict[str, list[str]]:
    """A notice for each partner that decided on the person while the listing was recorded."""
    months = active_rules(store.settings).disputes.notify_months
    notified = affected_partners(con, listing["person_id"], listing["event_id"], at, months)
    for partner, refs in notified.items():
        enqueue(
            con,
            partner,
            {
                "type": "court_list",
                "person": listing["person_id"],
                "item": {"court": update["court"], "case_number": update["case_number"]},
                "action": "lifted",
                "status": update["judgment_status"],
                "affected": refs,
                "lifted_at": at,
                "advice": "the court lifted this listing; decisions listed were capped or"
                " restricted by it: ask again for a current decision",
            },
            at,
        )
    return notified


def _after(store: Store, listing: dict[str, Any], update: dict[str, Any], event_id: int,
           notified: dict[str, list[str]], at: dt.datetime) -> CourtUpdate:  # fmt: skip
    """Re-score a lifted listing's person now; what was done."""
    lifted = update["judgment_status"] in LIFTING
    run_id = rescore_now(store, listing["person_id"], at) if lifted else None
    return CourtUpdate(
        event_id, listing["person_id"], update["court"], update["case_number"],
        update["judgment_status"], run_id, tuple(notified),
    )  # fmt: skip


def record_court_update(
    store: Store,
    event: CourtJudgmentEvent,
    *,
    source: str = "court_list",
    actor: str = "court_feed",
    now: dt.datetime | None = None,
) -> CourtUpdate:
    """Store one update of a listed case from the court's feed and act on it at once."""
    at = now_or(now)
    listing = _listing_of(store.con, event.court, event.case_number)
    update = event.model_dump()
    entry = AuditEntry(
        actor, "court_feed.update", f"person:{listing['person_id']}", "court list",
        {"status": event.judgment_status,
         **seal(store, listing["person_id"], {"case_number": event.case_number})},
    )  # fmt: skip
    notified: dict[str, list[str]] = {}
    with store.write(entry) as con:
        event_id = append_event(
            con, event, source=source, person_id=listing["person_id"], recorded_at=at
        )
        if event.judgment_status in LIFTING:
            notified = _notify(con, store, listing, update, at)
    return _after(store, listing, update, event_id, notified, at)


def apply_court_feed(
    store: Store, load_id: int, *, actor: str = "court_feed", now: dt.datetime | None = None
) -> list[CourtUpdate]:
    """Act on the satisfactions and withdrawals of one loaded file: link each to the person of
    its case's listing, notify, re-score. Records of cases never listed are left to identity
    resolution; a load without court records does nothing."""
    at = now_or(now)
    done = []
    for update in rows(
        store.con,
        "SELECT e.event_id, e.court, e.case_number, e.judgment_status FROM events e"
        " WHERE e.load_id = ? AND e.event_type = 'court_judgment'"
        " AND e.judgment_status IN ('satisfied', 'revoked') ORDER BY e.event_id",
        [load_id],
    ):
        try:
            listing = _listing_of(store.con, update["court"], update["case_number"])
        except NotFoundError:
            continue
        entry = AuditEntry(
            actor, "court_feed.update", f"person:{listing['person_id']}", "court list",
            {"status": update["judgment_status"], "load_id": load_id,
             **seal(store, listing["person_id"], {"case_number": update["case_number"]})},
        )  # fmt: skip
        with store.write(entry) as con:
            linked = one(
                con,
                "SELECT person_id FROM event_persons WHERE event_id = ? AND role = 'subject'",
                [update["event_id"]],
            )
            if linked is None:
                insert(con, "event_persons", {"event_id": update["event_id"], "role": "subject",
                       "person_id": listing["person_id"], "linked_at": at})  # fmt: skip
            notified = _notify(con, store, listing, update, at)
        done.append(_after(store, listing, update, update["event_id"], notified, at))
    return done


def expire_listings(
    store: Store, *, actor: str = "credo", now: dt.datetime | None = None
) -> list[CourtUpdate]:
    """End every listing in force whose fixed term has run out by today (R-BL-3): the
    profile's ``court_list.term_years``, plus the 1-3 years the court added to an aggravated
    case (``extension_years`` of the case's records, the latest extension)."""
    at = now_or(now)
    term = active_rules(store.settings).court_list.term_years
    due = rows(
        store.con,
        f"SELECT l.event_id, l.court, l.case_number, l.listed_on, e.amount FROM"
        f" ({listings_sql(PointInTime(at.date(), at), grace_months=0)}) l"
        " JOIN events e ON e.event_id = l.event_id"
        " LEFT JOIN (SELECT court, case_number, arg_max(extension_years, occurred_at) AS years"
        "   FROM events_court_judgment WHERE extension_years IS NOT NULL GROUP BY ALL) x"
        "   ON x.court = l.court AND x.case_number = l.case_number"
        " WHERE l.listed_on + to_years(CAST(? + coalesce(x.years, 0) AS INTEGER))"
        " <= CAST(? AS DATE)"
        " AND NOT coalesce(starts_with(e.dishonest_conduct, ?), false)"
        " ORDER BY l.listed_on, l.event_id",
        [term, at.date(), NO_TERM_CONDUCT],
    )
    return [
        record_court_update(
            store,
            CourtJudgmentEvent(
                source_record_id=f"term-{listing['event_id']}",
                occurred_at=at,
                court=listing["court"],
                case_number=listing["case_number"],
                amount=listing["amount"],
                listed_on=listing["listed_on"],
                judgment_status="expired",
            ),
            source=TERM_SOURCE,
            actor=actor,
            now=at,
        )
        for listing in due
    ]
