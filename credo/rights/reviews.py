"""Human review of an automated decision or score (RULES R-GDPR-6, R-GDPR-6a, R-PIPL-1).

A person asks for a human to look at one of their decisions, or at their score itself (the
CJEU's SCHUFA ruling: the score is a decision when a lender draws strongly on it), and says
why. The request joins the operator's queue with a deadline (the rules profile's
``notices.request_response_days``); the operator records the outcome with reasons, which the
person sees. Every step is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal

from credo.errors import ConflictError, InputError, NotFoundError
from credo.rights.jurisdiction import partner_rules
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.person_keys import seal
from credo.store.rows import insert, one, rows

__all__ = ["Review", "decide_review", "list_reviews", "request_review"]

Outcome = Literal["upheld", "changed"]
"""``upheld``: the decision stands after review; ``changed``: the reviewer changed it."""


@dataclass(frozen=True)
class Review:
    review_id: str
    person_id: str
    decision_id: str | None
    statement: str
    requested_at: dt.datetime
    due_at: dt.datetime
    status: str
    outcome_note: str | None
    decided_at: dt.datetime | None
    decided_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = (
    "review_id, person_id, decision_id, statement, requested_at, due_at, status, outcome_note,"
    " decided_at, decided_by"
)


def _get(store: Store, review_id: str) -> Review:
    row = one(store.con, f"SELECT {_COLUMNS} FROM human_reviews WHERE review_id = ?", [review_id])
    if row is None:
        raise NotFoundError(f"no review {review_id!r}")
    return Review(**row)


def list_reviews(
    store: Store, *, person_id: str | None = None, status: str | None = None
) -> list[Review]:
    """The queue, the nearest deadline first."""
    return [
        Review(**row)
        for row in rows(
            store.con,
            f"SELECT {_COLUMNS} FROM human_reviews WHERE person_id = coalesce(?, person_id)"
            " AND status = coalesce(?, status) ORDER BY due_at, review_id",
            [person_id, status],
        )
    ]


def request_review(
    store: Store,
    person_id: str,
    statement: str,
    decision_id: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> Review:
    """Ask for a human to review one of the person's decisions (or, without one, the score)."""
    if not statement.strip():
        raise InputError("field statement: say what you want reviewed and why")
    if decision_id is not None and not store.scalar(
        "SELECT count(*) FROM decisions WHERE decision_id = ? AND person_id = ?",
        [decision_id, person_id],
    ):  # the same answer for another person's decision: nothing leaks
        raise NotFoundError(f"no decision {decision_id!r} about you")
    if store.scalar(
        "SELECT count(*) FROM human_reviews WHERE person_id = ? AND status = 'open'"
        " AND decision_id IS NOT DISTINCT FROM ?",
        [person_id, decision_id],
    ):
        raise ConflictError("a review of this is already open", hint="see its deadline")
    at = now_or(now)
    review_id = new_id("rev")
    partner = None  # a decision's review follows its partner's jurisdiction (decision 0648)
    if decision_id is not None:
        partner = store.scalar(
            "SELECT partner_id FROM decisions WHERE decision_id = ?", [decision_id]
        )
    days = partner_rules(store, partner).notices.request_response_days
    entry = AuditEntry(
        f"person:{person_id}", "review.request", f"person:{person_id}", "human review",
        {"review_id": review_id, "decision_id": decision_id},
    )  # fmt: skip
    with store.write(entry) as con:
        insert(con, "human_reviews", {
            "review_id": review_id, "person_id": person_id, "decision_id": decision_id,
            "statement": statement, "requested_at": at,
            "due_at": at + dt.timedelta(days=days), "status": "open",
        })  # fmt: skip
    return _get(store, review_id)


def decide_review(
    store: Store,
    review_id: str,
    outcome: Outcome,
    note: str,
    *,
    actor: str = "operator",
    now: dt.datetime | None = None,
) -> Review:
    """Record the reviewer's outcome; the reasons are required and shown to the person."""
    if not note.strip():
        raise InputError("field note: give the reasons for the outcome")
    review = _get(store, review_id)
    if review.status != "open":
        raise ConflictError(f"review {review_id} is already {review.status}")
    at = now_or(now)
    entry = AuditEntry(
        actor, f"review.{outcome}", f"person:{review.person_id}", "human review",
        {"review_id": review_id, **seal(store, review.person_id, {"note": note})},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "UPDATE human_reviews SET status = ?, outcome_note = ?, decided_at = ?,"
            " decided_by = ? WHERE review_id = ?",
            [outcome, note, at, actor, review_id],
        )
    return _get(store, review_id)
