"""The review queue: record pairs the model was unsure of, for a person to decide.

A pair lands here when its match weight lies between the review and the match thresholds, or
when two records share a verified national id but disagree on the date of birth. Nothing is
merged while a pair waits. A decision is kept for good: an accepted pair is linked in every
later run, a rejected one never — not even through other records (the clustering refuses any
link that would join their groups). Decisions take effect at the next ``resolve``.

These are plain functions over a ``Store`` so the CLI, the API and the console share them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

from credo.errors import ConflictError, InputError, NotFoundError
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.rows import insert, one, rows, value

__all__ = [
    "ReviewCard",
    "ReviewItem",
    "ReviewSide",
    "ReviewStatus",
    "accept_review",
    "list_reviews",
    "reject_review",
    "review_queue",
]

ReviewStatus = Literal["pending", "accepted", "rejected"]
_STATUSES = ("pending", "accepted", "rejected")


@dataclass(frozen=True)
class ReviewItem:
    review_id: int
    record_l: str
    record_r: str
    person_l: str | None
    person_r: str | None
    source_l: str | None
    source_r: str | None
    reason: str
    match_weight: float | None
    comparisons: dict[str, float]
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    note: str | None

    @property
    def same_person_now(self) -> bool:
        """Other links already put both records in one person: the decision may be moot."""
        return self.person_l is not None and self.person_l == self.person_r


_SELECT = """
    SELECT v.review_id, v.record_l, v.record_r, a.person_id AS person_l,
           b.person_id AS person_r, a.source AS source_l, b.source AS source_r, v.reason,
           v.match_weight, v.comparisons, v.status, v.created_at, v.decided_at, v.decided_by,
           v.note
    FROM identity_reviews v
    LEFT JOIN identity_records a ON a.record_id = v.record_l
    LEFT JOIN identity_records b ON b.record_id = v.record_r
"""


def _text(cell: Any) -> str | None:
    return None if cell is None else str(cell)


def _item(row: dict[str, Any]) -> ReviewItem:
    comparisons = json.loads(str(row["comparisons"])) if row["comparisons"] is not None else {}
    weight = row["match_weight"]
    return ReviewItem(
        review_id=int(row["review_id"]),
        record_l=str(row["record_l"]),
        record_r=str(row["record_r"]),
        person_l=_text(row["person_l"]),
        person_r=_text(row["person_r"]),
        source_l=_text(row["source_l"]),
        source_r=_text(row["source_r"]),
        reason=str(row["reason"]),
        match_weight=None if weight is None else float(weight),
        comparisons={str(k): float(v) for k, v in comparisons.items()},
        status=str(row["status"]),
        created_at=row["created_at"],
        decided_at=row["decided_at"],
        decided_by=_text(row["decided_by"]),
        note=_text(row["note"]),
    )


def list_reviews(
    store: Store, status: ReviewStatus | None = "pending", limit: int = 100
) -> list[ReviewItem]:
    """Review items, strongest first; ``status=None`` lists every item."""
    if status is not None and status not in _STATUSES:
        raise InputError(f"unknown review status {status!r}", hint=f"one of {_STATUSES}")
    where = "WHERE v.status = ?" if status is not None else ""
    params: list[object] = [status] if status is not None else []
    found = rows(
        store.con,
        f"{_SELECT} {where} ORDER BY v.match_weight DESC NULLS FIRST, v.review_id LIMIT ?",
        [*params, limit],
    )
    return [_item(r) for r in found]


def get_review(store: Store, review_id: int) -> ReviewItem:
    row = one(store.con, f"{_SELECT} WHERE v.review_id = ?", [review_id])
    if row is None:
        raise NotFoundError(f"no review item {review_id}", hint="see 'credo review list'")
    return _item(row)


def _decide(
    store: Store, review_id: int, status: ReviewStatus, actor: str | None, note: str | None
) -> ReviewItem:
    item = get_review(store, review_id)
    if item.status == status:
        return item
    if item.status != "pending":
        raise ConflictError(
            f"review item {review_id} was already {item.status} by {item.decided_by} on "
            f"{item.decided_at:%Y-%m-%d}",
            hint="a decision is final; a wrong merge is undone by rejecting a pair of it",
        )
    if status == "accepted" and (why := _cannot_be_one(store, item)) is not None:
        raise ConflictError(
            f"review item {review_id}: records {item.record_l} and {item.record_r} cannot be "
            f"one person: {why}",
            hint="reject the item, or correct the wrong record at its source and decide again",
        )
    who = actor or store.settings.actor
    entry = AuditEntry(
        actor=who,
        action=f"identity.review.{'accept' if status == 'accepted' else 'reject'}",
        target=f"review:{review_id}",
        purpose="identity resolution review",
        details={
            "record_l": item.record_l,
            "record_r": item.record_r,
            "person_l": item.person_l,
            "person_r": item.person_r,
            "note": note,
        },
    )
    with store.write(entry) as tx:
        tx.execute(
            "UPDATE identity_reviews SET status = ?, decided_at = ?, decided_by = ?, note = ? "
            "WHERE review_id = ?",
            [status, utcnow(), who, note, review_id],
        )
    return get_review(store, review_id)


def _cannot_be_one(store: Store, item: ReviewItem) -> str | None:
    """What the clustering would refuse an accepted pair for (decision 0301): their persons
    hold different verified national ids, or a rejected pair lies between them. Said when the
    operator decides, rather than the acceptance going unhonoured at every later run."""
    if item.person_l is None or item.person_r is None or item.person_l == item.person_r:
        return None
    held = rows(
        store.con,
        "SELECT person_id, list(DISTINCT national_id_hash ORDER BY national_id_hash) AS ids "
        "FROM identity_records WHERE person_id IN (?, ?) AND id_sex IS NOT NULL "
        "AND national_id_hash IS NOT NULL GROUP BY person_id",
        [item.person_l, item.person_r],
    )
    if len(held) == 2 and held[0]["ids"] != held[1]["ids"]:
        return f"persons {item.person_l} and {item.person_r} hold different verified national ids"
    apart = value(
        store.con,
        "SELECT min(v.review_id) FROM identity_reviews v "
        "JOIN identity_records a ON a.record_id = v.record_l "
        "JOIN identity_records b ON b.record_id = v.record_r "
        "WHERE v.review_id <> ? AND v.status = 'rejected' "
        "AND ((a.person_id = ? AND b.person_id = ?) OR (a.person_id = ? AND b.person_id = ?))",
        [item.review_id, item.person_l, item.person_r, item.person_r, item.person_l],
    )
    if apart is not None:
        return f"review item {apart} was rejected, and it lies between their persons"
    return None


def accept_review(
    store: Store, review_id: int, *, actor: str | None = None, note: str | None = None
) -> ReviewItem:
    """The two records are the same person: they are linked from the next run on."""
    return _decide(store, review_id, "accepted", actor, note)


def reject_review(
    store: Store, review_id: int, *, actor: str | None = None, note: str | None = None
) -> ReviewItem:
    """The two records are different persons: they are never merged, directly or not."""
    return _decide(store, review_id, "rejected", actor, note)


def add_review(
    store: Store,
    record_l: str,
    record_r: str,
    reason: str,
    *,
    actor: str | None = None,
) -> ReviewItem:
    """Put any two records up for decision (e.g. a "this isn't me" dispute on a record)."""
    left, right = sorted((record_l, record_r))
    found = value(
        store.con,
        "SELECT count(*) FROM identity_records WHERE record_id IN (?, ?)",
        [left, right],
    )
    if left == right or found != 2:
        raise NotFoundError("give two different known source records", hint="see --explain")
    existing = value(
        store.con,
        "SELECT review_id FROM identity_reviews WHERE record_l = ? AND record_r = ?",
        [left, right],
    )
    if existing is not None:
        return get_review(store, int(existing))
    entry = AuditEntry(
        actor=actor or store.settings.actor,
        action="identity.review.add",
        target=f"records:{left},{right}",
        purpose="identity resolution review",
        details={"reason": reason},
    )
    with store.write(entry) as tx:
        review_id = int(value(tx, "SELECT coalesce(max(review_id), 0) + 1 FROM identity_reviews"))
        insert(
            tx,
            "identity_reviews",
            {
                "review_id": review_id,
                "record_l": left,
                "record_r": right,
                "reason": reason,
                "status": "pending",
                "created_at": utcnow(),
            },
        )
    return get_review(store, review_id)


@dataclass(frozen=True)
class ReviewSide:
    """One record of a review item as the operator sees it: who it says the person is."""

    record_id: str
    source: str | None
    person_id: str | None
    name: str | None
    birth_date: dt.date | None
    national_id: str | None  # decrypted for this view and masked: the last 4 characters
    phone: str | None  # the same
    address: str | None
    events: int  # events of the person this record belongs to now


@dataclass(frozen=True)
class ReviewCard:
    """A pending review item with both records in clear (masked ids), for deciding it."""

    item: ReviewItem
    left: ReviewSide
    right: ReviewSide
    events_moved: int  # events that change person if the pair is accepted (the smaller side)
    against: tuple[str, float] | None  # the comparison that weighed most against the match
    for_: tuple[str, float] | None  # the comparison that weighed most for it

    @property
    def review_id(self) -> int:
        return self.item.review_id

    @property
    def deciding(self) -> str:
        """What kept the pair below the match threshold, or why it is here at all."""
        if self.against is not None:
            return f"{self.against[0]} {self.against[1]:+.1f}"
        return self.item.reason


_QUEUE = """
    WITH ev AS (
        SELECT person_id, count(*) AS n FROM event_persons WHERE role = 'subject' GROUP BY 1
    )
    SELECT v.review_id, coalesce(ea.n, 0) AS events_l, coalesce(eb.n, 0) AS events_r,
           CASE WHEN a.person_id IS NOT DISTINCT FROM b.person_id THEN 0
                ELSE least(coalesce(ea.n, 0), coalesce(eb.n, 0)) END AS moved,
           a.name AS name_l, b.name AS name_r, a.birth_date AS birth_l, b.birth_date AS birth_r,
           a.national_id_hash AS nid_l, b.national_id_hash AS nid_r,
           a.phone_hash AS phone_l, b.phone_hash AS phone_r,
           a.address AS address_l, b.address AS address_r
    FROM identity_reviews v
    LEFT JOIN identity_records a ON a.record_id = v.record_l
    LEFT JOIN identity_records b ON b.record_id = v.record_r
    LEFT JOIN ev ea ON ea.person_id = a.person_id
    LEFT JOIN ev eb ON eb.person_id = b.person_id
    WHERE v.status = 'pending'
    ORDER BY moved DESC, v.match_weight DESC NULLS FIRST, v.review_id
    LIMIT ?
"""


def _clear(store: Store, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(kind, hash) -> the value decrypted from the vault and masked (last 4 characters)."""
    from credo.identifiers import mask

    out: dict[tuple[str, str], str] = {}
    for kind, digest in sorted(wanted):
        blob = value(
            store.con,
            "SELECT any_value(ciphertext) FROM pii_vault WHERE kind = ? AND hash = ?",
            [kind, digest],
        )
        if blob is not None:
            out[(kind, digest)] = mask(store.keys.decrypt(kind, bytes(blob)))
    return out


def review_queue(store: Store, *, actor: str, limit: int = 50) -> list[ReviewCard]:
    """Pending items, the one whose decision moves the most events first, with both records'
    names, dates of birth and masked ids and phones, decrypted for this view only.

    The read is audited (who saw how many items and how many identifiers were decrypted):
    an operator deciding a pair must see who the records say the person is, which hashed
    ids and weights alone never showed, and every such look is on the record."""
    found = rows(store.con, _QUEUE, [limit])
    items = {i.review_id: i for i in (get_review(store, int(r["review_id"])) for r in found)}
    wanted = {
        (kind, str(r[f"{col}_{side}"]))
        for r in found
        for kind, col in (("national_id", "nid"), ("phone", "phone"))
        for side in ("l", "r")
        if r[f"{col}_{side}"] is not None
    }
    clear = _clear(store, wanted)

    def side(r: dict[str, Any], s: str) -> ReviewSide:
        item = items[int(r["review_id"])]
        nid, phone = r[f"nid_{s}"], r[f"phone_{s}"]
        return ReviewSide(
            record_id=item.record_l if s == "l" else item.record_r,
            source=item.source_l if s == "l" else item.source_r,
            person_id=item.person_l if s == "l" else item.person_r,
            name=_text(r[f"name_{s}"]),
            birth_date=r[f"birth_{s}"],
            national_id=None if nid is None else clear.get(("national_id", str(nid)), "?"),
            phone=None if phone is None else clear.get(("phone", str(phone)), "?"),
            address=_text(r[f"address_{s}"]),
            events=int(r[f"events_{s}"]),
        )

    cards = []
    for r in found:
        item = items[int(r["review_id"])]
        weights = sorted(item.comparisons.items(), key=lambda kv: (kv[1], kv[0]))
        against = weights[0] if weights and weights[0][1] < 0 else None
        best = weights[-1] if weights and weights[-1][1] > 0 else None
        cards.append(ReviewCard(item, side(r, "l"), side(r, "r"), int(r["moved"]), against, best))
    store.audit(
        AuditEntry(
            actor=actor,
            action="read.identity_reviews",
            target="identity_reviews",
            purpose="identity resolution review",
            details={"items": len(cards), "identifiers_decrypted": len(clear)},
        )
    )
    return cards
