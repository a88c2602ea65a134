"""Disputes (SPEC S10, RULES R-FCRA-3, R-FCRA-6, R-BL-6).

A person disputes one event of their file (a listing, a bill, a loan record...) with a
statement and evidence; the item shows as disputed to partners at once. The operator resolves
it within the active rules profile's ``disputes.days`` (30 under FCRA, 20 under China's
regulation; :mod:`credo.policy.rules`):

* ``correct``: the person is right. A ``correction`` event amends or retracts the item.
* ``reject``: the item was verified as accurate; it stays and stops showing as disputed.
* not verified by the deadline: :func:`expire_disputes` retracts the item with a correction
  event ("not verified within N days", R-FCRA-6). Scoring never reads the wall clock, so the
  deadline takes effect as an event: run ``expire_disputes`` daily (the server does it).

A correction is committed with a notice in the webhook outbox for every partner that got a
decision or report about the person within the profile's ``notify_months`` after the item was
recorded (those used the wrong data), then the person is re-scored at once at the month of
their latest monthly score (:func:`rescore_correction_now`), so the change their alert shows is
the correction's alone. The court's feed re-scores as of today instead (:func:`rescore_now`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import duckdb

from credo.errors import ConflictError, CredoError, InputError, NotFoundError
from credo.features.sql import AMENDABLE
from credo.ingest.events import CorrectionEvent
from credo.rights.audited import append_event
from credo.rights.furnishers import add_business_days, queue_furnisher_notice
from credo.rights.jurisdiction import PARTNER_SOURCE, furnisher_rules
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.person_keys import seal
from credo.store.rows import insert, one, rows
from credo.webhooks import enqueue

__all__ = [
    "APPEAL_DAYS",
    "APPEAL_DECIDE_DAYS",
    "COMPLIANCE_CODES",
    "STATEMENT_WORDS",
    "Dispute",
    "add_evidence",
    "affected_partners",
    "appeal_dispute",
    "complete_fixes",
    "disputed_items",
    "expire_disputes",
    "get_dispute",
    "list_disputes",
    "open_dispute",
    "reinsert",
    "rescore_correction_now",
    "rescore_now",
    "resolve_dispute",
]

CORRECTION_SOURCE = "credo_disputes"

COMPLIANCE_CODES: dict[str, str] = {
    "open": "XB",
    "verified": "XC",
    "frivolous": "XC",
    "reinserted": "XC",
    "corrected": "XH",
}
"""Metro 2 compliance condition codes by dispute status (RULES R-FCRA-17): ``XB`` disputed
under the FCRA, investigation in progress; ``XC`` investigation completed, the consumer
disagrees (the item stands: verified, found frivolous, or reinserted on certification); ``XH``
previously in dispute, resolved by the furnisher (corrected). An appeal opens the dispute again
(``XB``). An item a dispute removed (expired unverified, or corrected by retraction) is not
reported at all, so it carries no code."""

STATEMENT_WORDS = 100
"""The consumer's statement of dispute is carried in reports up to this many words (R-FCRA-9:
a bureau may limit it to 100 words)."""
_NOT_DISPUTABLE = ("consent", "correction")


@dataclass(frozen=True)
class Dispute:
    dispute_id: str
    person_id: str
    event_id: int
    target_source: str
    target_record_id: str
    statement: str
    evidence: str | None
    opened_at: dt.datetime
    due_at: dt.datetime
    status: str
    resolved_at: dt.datetime | None
    resolved_by: str | None
    note: str | None
    correction_event_id: int | None
    extended_at: dt.datetime | None = None
    needed: str | None = None
    """A frivolous determination: what the person must send for the dispute to be looked at."""
    certification: str | None = None
    """A reinsertion: the furnisher's certification that the item is accurate."""
    appealed_at: dt.datetime | None = None
    furnisher_contact: str | None = None
    """A reinsertion: the furnisher's name, address and phone, as the person is told them."""
    fix_due_at: dt.datetime | None = None
    """A correction: when its fix (the item amended and the person re-scored) is due (R-BL-4)."""
    fixed_at: dt.datetime | None = None
    first_decided_by: str | None = None
    """An appealed dispute: who decided it before the appeal; someone else decides the appeal."""
    fix_overdue: bool = False
    rescored_run_id: str | None = None
    notified: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = (
    "dispute_id, person_id, event_id, target_source, target_record_id, statement, evidence,"
    " opened_at, due_at, status, resolved_at, resolved_by, note, correction_event_id,"
    " extended_at, needed, certification, appealed_at, furnisher_contact, fix_due_at, fixed_at,"
    " first_decided_by"
)


def _dispute(row: dict[str, Any], at: dt.datetime) -> Dispute:
    overdue = row["fixed_at"] is None and row["fix_due_at"] is not None and row["fix_due_at"] < at
    return Dispute(**row, fix_overdue=overdue)


def get_dispute(store: Store, dispute_id: str, *, now: dt.datetime | None = None) -> Dispute:
    row = one(store.con, f"SELECT {_COLUMNS} FROM disputes WHERE dispute_id = ?", [dispute_id])
    if row is None:
        raise NotFoundError(f"no dispute {dispute_id!r}")
    return _dispute(row, now_or(now))


def list_disputes(
    store: Store,
    *,
    person_id: str | None = None,
    status: str | None = None,
    now: dt.datetime | None = None,
) -> list[Dispute]:
    at = now_or(now)
    return [
        _dispute(row, at)
        for row in rows(
            store.con,
            f"SELECT {_COLUMNS} FROM disputes WHERE person_id = coalesce(?, person_id)"
            " AND status = coalesce(?, status) ORDER BY opened_at, dispute_id",
            [person_id, status],
        )
    ]


def open_dispute(
    store: Store,
    person_id: str,
    event_id: int,
    statement: str,
    evidence: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> Dispute:
    if not statement.strip():
        raise InputError("field statement: say what is wrong")
    item = one(
        store.con,
        "SELECT e.source, e.source_record_id, e.event_type FROM events e"
        " JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE e.event_id = ? AND p.person_id = ?",
        [event_id, person_id],
    )
    if item is None:  # the same answer for another person's event: nothing leaks
        raise NotFoundError(f"no event {event_id} in your file")
    if item["event_type"] in _NOT_DISPUTABLE:
        raise InputError(f"field event_id: a {item['event_type']} event is your own record")
    if store.scalar(
        "SELECT count(*) FROM disputes WHERE event_id = ? AND status = 'open'", [event_id]
    ):
        raise ConflictError(f"event {event_id} is already under dispute")
    at = now_or(now)
    dispute_id = new_id("dsp")
    entry = AuditEntry(
        f"person:{person_id}", "dispute.open", f"person:{person_id}", "dispute",
        {"dispute_id": dispute_id, "event_id": event_id},
    )  # fmt: skip
    with store.write(entry) as con:
        insert(
            con,
            "disputes",
            {
                "dispute_id": dispute_id,
                "person_id": person_id,
                "event_id": event_id,
                "target_source": item["source"],
                "target_record_id": item["source_record_id"],
                "statement": statement,
                "evidence": evidence,
                "opened_at": at,
                "due_at": at
                + dt.timedelta(days=furnisher_rules(store, item["source"]).disputes.days),
                "status": "open",
            },
        )
        _tell_furnisher(con, store, person_id, item, dispute_id, statement, evidence, at)
    return get_dispute(store, dispute_id)


def _tell_furnisher(
    con: duckdb.DuckDBPyConnection, store: Store, person_id: str, item: dict[str, Any],
    dispute_id: str, statement: str, evidence: str | None, at: dt.datetime,
) -> None:  # fmt: skip
    """R-FCRA-4: the furnisher hears of the dispute with all the person sent, in the same
    transaction: a partner that furnished the item through the API by webhook, at once; a
    source that loads files through its queue, exported to it (:mod:`credo.rights.furnishers`)
    within the profile's business days."""
    source = str(item["source"])
    if not source.startswith(PARTNER_SOURCE):
        queue_furnisher_notice(
            con, store, dispute_id=dispute_id, person_id=person_id, source=source,
            record_id=str(item["source_record_id"]), statement=statement, evidence=evidence,
            at=at,
        )  # fmt: skip
        return
    payload = {"type": "dispute", "dispute_id": dispute_id,
               "item": {"source": source, "record_id": item["source_record_id"]},
               "statement": statement, "evidence": evidence, "opened_at": at,
               "advice": "verify the item and answer before the dispute's deadline"}  # fmt: skip
    enqueue(con, source.removeprefix(PARTNER_SOURCE), payload, at)


def affected_partners(
    con: duckdb.DuckDBPyConnection,
    person_id: str,
    event_id: int,
    at: dt.datetime,
    notify_months: int,
) -> dict[str, list[str]]:
    """Partners with a decision or report about the person in the last ``notify_months``, made
    after the item was recorded: {partner: [decision or report ids]}."""
    since = at - dt.timedelta(days=round(notify_months * 30.44))
    out: dict[str, list[str]] = {}
    for inquiry in rows(
        con,
        "SELECT i.partner_id, i.ref_id FROM inquiries i"
        " WHERE i.person_id = ? AND i.inquired_at >= ?"
        " AND i.inquired_at >= (SELECT recorded_at FROM events WHERE event_id = ?)"
        " ORDER BY i.inquired_at",
        [person_id, since, event_id],
    ):
        out.setdefault(inquiry["partner_id"], []).append(inquiry["ref_id"])
    return out


def _check_amendment(amendment: dict[str, Any] | None) -> None:
    if not amendment:
        raise InputError("field amendment: give the corrected field values")
    unknown = sorted(set(amendment) - set(AMENDABLE))
    if unknown:
        raise InputError(
            f"field amendment.{unknown[0]}: not amendable", hint="one of " + ", ".join(AMENDABLE)
        )


def _notify_partners(
    con: duckdb.DuckDBPyConnection,
    dispute: Dispute,
    action: str,
    at: dt.datetime,
    notify_months: int,
) -> dict[str, list[str]]:
    """A notice in the outbox for each partner that used the corrected item; who got one."""
    notified = affected_partners(con, dispute.person_id, dispute.event_id, at, notify_months)
    for partner, refs in notified.items():
        enqueue(
            con,
            partner,
            {
                "type": "correction",
                "person": dispute.person_id,
                "dispute_id": dispute.dispute_id,
                "item": {"source": dispute.target_source, "record_id": dispute.target_record_id},
                "action": action,
                "affected": refs,
                "corrected_at": at,
                "advice": "decisions and reports listed were based on data since"
                " corrected; ask again for a current decision",
            },
            at,
        )
    return notified


def resolve_dispute(
    store: Store,
    dispute_id: str,
    decision: Literal["correct", "reject", "expire", "frivolous"],
    *,
    action: Literal["amend", "retract"] = "amend",
    amendment: dict[str, Any] | None = None,
    note: str | None = None,
    needed: str | None = None,
    actor: str = "operator",
    rescore: bool = True,
    now: dt.datetime | None = None,
) -> Dispute:
    """Close an open dispute; ``correct`` and ``expire`` write a correction event, notify the
    partners that used the wrong data, and re-score the person at once."""
    dispute = get_dispute(store, dispute_id)
    if dispute.status != "open":
        raise ConflictError(f"dispute {dispute_id} is already {dispute.status}")
    if dispute.appealed_at is not None and actor == dispute.first_decided_by:
        raise ConflictError(
            f"dispute {dispute_id} is an appeal of {actor}'s decision: another operator decides it",
            hint="sign in as another operator (the X-Credo-Operator header names who decides)",
        )
    if decision == "frivolous":
        return _frivolous(store, dispute, note, needed, actor, now_or(now))
    at = now_or(now)
    rules = furnisher_rules(store, dispute.target_source).disputes
    if decision == "expire":
        action, amendment = "retract", None
        note = note or f"not verified within {rules.days} days"
    if decision != "reject" and action == "amend":
        _check_amendment(amendment)
    status = {"correct": "corrected", "reject": "verified", "expire": "expired"}[decision]
    notified: dict[str, list[str]] = {}
    entry = AuditEntry(
        actor, f"dispute.{decision}", f"person:{dispute.person_id}", "dispute resolution",
        {"dispute_id": dispute_id, "action": action if decision != "reject" else None,
         **seal(store, dispute.person_id, {"amendment": amendment, "note": note})},
    )  # fmt: skip
    with store.write(entry) as con:
        correction_id = None
        if decision != "reject":
            event = CorrectionEvent(
                source_record_id=f"{dispute_id}-correction",
                occurred_at=at,
                target_source=dispute.target_source,
                target_record_id=dispute.target_record_id,
                correction_action=action,
                reason=note or dispute.statement,
                amendment=json.dumps(amendment, default=str) if action == "amend" else None,
            )
            correction_id = append_event(
                con,
                event,
                source=CORRECTION_SOURCE,
                person_id=dispute.person_id,
                recorded_at=at,
            )
            notified = _notify_partners(con, dispute, action, at, rules.notify_months)
        fix_due = None if decision == "reject" else add_business_days(at, rules.fix_working_days)
        con.execute(
            "UPDATE disputes SET status = ?, resolved_at = ?, resolved_by = ?, note = ?,"
            " correction_event_id = ?, fix_due_at = ? WHERE dispute_id = ?",
            [status, at, actor, note, correction_id, fix_due, dispute_id],
        )
    run_id = None
    if decision != "reject" and rescore:
        run_id = _fix(store, dispute, at, actor)
    done = get_dispute(store, dispute_id, now=at)
    return Dispute(**{**asdict(done), "rescored_run_id": run_id, "notified": tuple(notified)})


def _fix(store: Store, dispute: Dispute, at: dt.datetime, actor: str) -> str | None:
    """Re-score the person after a correction and record the fix as done (R-BL-4); if the
    re-score fails the fix stays due, shown overdue past ``fix_due_at``."""
    run_id = rescore_correction_now(store, dispute.person_id, at)
    entry = AuditEntry(
        actor, "dispute.fixed", f"person:{dispute.person_id}", "dispute resolution",
        {"dispute_id": dispute.dispute_id, "run_id": run_id},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "UPDATE disputes SET fixed_at = ? WHERE dispute_id = ?", [at, dispute.dispute_id]
        )
    return run_id


def complete_fixes(
    store: Store, *, actor: str = "credo", now: dt.datetime | None = None
) -> list[Dispute]:
    """Fix every corrected dispute whose fix is not done (its re-score failed or was left for
    later): the ones fixed now; a failure again leaves the dispute due, then overdue."""
    at = now_or(now)
    due = rows(
        store.con,
        f"SELECT {_COLUMNS} FROM disputes WHERE fix_due_at IS NOT NULL AND fixed_at IS NULL"
        " ORDER BY fix_due_at, dispute_id",
    )
    done = []
    for row in due:
        dispute = _dispute(row, at)
        try:
            run_id = _fix(store, dispute, at, actor)
        except CredoError:
            continue
        done.append(Dispute(**{**asdict(get_dispute(store, dispute.dispute_id, now=at)),
                               "rescored_run_id": run_id}))  # fmt: skip
    return done


def rescore_correction_now(store: Store, person_id: str, at: dt.datetime) -> str | None:
    """Re-score at the month of the person's latest monthly score, so the change shown is the
    correction's alone (docs/decisions/0531); nothing if never scored or no longer scored."""
    from credo.scoring import rescore_correction

    run = rescore_correction(store, person_id, corrections_known_at=at)
    return None if run is None else run.run_id


def rescore_now(store: Store, person_id: str, at: dt.datetime) -> str | None:
    """Re-score as of today, if the person has ever been scored. For a change in the world (the
    court's feed: a judgment satisfied today), not a correction of the past: the listing was in
    force at the last monthly date, so only a score of today can lift its cap at once."""
    from credo.scoring import latest_snapshot, rescore_person

    last = latest_snapshot(store, person_id)
    if last is None:
        return None
    try:
        return rescore_person(store, person_id, max(last.as_of, at.date())).run_id
    except NotFoundError:  # left since: no longer scored
        return None


def disputed_items(store: Store, person_id: str) -> list[dict[str, Any]]:
    """Every item of the person's still reported that was ever disputed, with its Metro 2 code
    (:data:`COMPLIANCE_CODES`, from the item's latest dispute) and the person's statement (at
    most :data:`STATEMENT_WORDS` words): what reports carry after a dispute is closed as well as
    while it is open (R-FCRA-9, R-FCRA-17)."""
    if not store.scalar("SELECT count(*) FROM disputes WHERE person_id = ?", [person_id]):
        return []
    found = rows(
        store.con,
        "SELECT d.dispute_id, e.event_type, d.target_source AS source,"
        " d.target_record_id AS record_id, d.opened_at AS since, d.status, d.statement"
        " FROM disputes d JOIN events e ON e.event_id = d.event_id"
        " WHERE d.person_id = ?"
        " AND coalesce((SELECT arg_max(c.correction_action, row(c.occurred_at, c.event_id))"
        " FROM events_correction c WHERE c.target_source = d.target_source"
        " AND c.target_record_id = d.target_record_id), '') <> 'retract'"
        " QUALIFY row_number() OVER (PARTITION BY d.event_id"
        " ORDER BY d.opened_at DESC, d.dispute_id DESC) = 1"
        " ORDER BY d.opened_at, d.dispute_id",
        [person_id],
    )
    out = []
    for item in found:
        code = COMPLIANCE_CODES.get(item.pop("status"))
        if code is None:  # expired: the item was retracted
            continue
        words = str(item.pop("statement")).split()
        statement = " ".join(words[:STATEMENT_WORDS])
        out.append(item | {"compliance_code": code, "statement": statement})
    return out


def expire_disputes(
    store: Store, *, now: dt.datetime | None = None, actor: str = "credo"
) -> list[Dispute]:
    """Retract every item whose dispute passed its deadline unverified."""
    at = now_or(now)
    due = rows(
        store.con,
        "SELECT dispute_id FROM disputes WHERE status = 'open' AND due_at < ? ORDER BY due_at",
        [at],
    )
    return [resolve_dispute(store, d["dispute_id"], "expire", actor=actor, now=at) for d in due]


def _frivolous(
    store: Store, dispute: Dispute, note: str | None, needed: str | None, actor: str,
    at: dt.datetime,
) -> Dispute:  # fmt: skip
    """R-FCRA-5: a dispute may be closed as frivolous or irrelevant only with the reasons and
    what information the person must send; the result shows in their feed at once."""
    if not (note or "").strip():
        raise InputError("field note: give the reasons the dispute is frivolous or irrelevant")
    if not (needed or "").strip():
        raise InputError("field needed: say what information the person must send")
    entry = AuditEntry(
        actor, "dispute.frivolous", f"person:{dispute.person_id}", "dispute resolution",
        {"dispute_id": dispute.dispute_id,
         **seal(store, dispute.person_id, {"note": note, "needed": needed})},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "UPDATE disputes SET status = 'frivolous', resolved_at = ?, resolved_by = ?,"
            " note = ?, needed = ? WHERE dispute_id = ?",
            [at, actor, note, needed, dispute.dispute_id],
        )
    return get_dispute(store, dispute.dispute_id)


def add_evidence(
    store: Store, person_id: str, dispute_id: str, evidence: str, *, now: dt.datetime | None = None
) -> Dispute:
    """The person sends more information on an open dispute. Within the profile's first
    ``disputes.days``, the deadline moves out once by ``extension_days`` (R-FCRA-3: 30 + 15
    days; China's 20 days have no extension)."""
    dispute = get_dispute(store, dispute_id)
    if dispute.person_id != person_id:
        raise NotFoundError(f"no dispute {dispute_id!r} in your file")
    if dispute.status != "open":
        raise ConflictError(f"dispute {dispute_id} is already {dispute.status}")
    if not evidence.strip():
        raise InputError("field evidence: send the information")
    at = now_or(now)
    rules = furnisher_rules(store, dispute.target_source).disputes
    due = dispute.due_at
    extend = (
        rules.extension_days > 0
        and dispute.extended_at is None
        and at <= dispute.opened_at + dt.timedelta(days=rules.days)
    )
    if extend:
        due = dispute.opened_at + dt.timedelta(days=rules.days + rules.extension_days)
    combined = "\n\n".join(x for x in (dispute.evidence, evidence) if x)
    entry = AuditEntry(
        f"person:{person_id}", "dispute.evidence", f"person:{person_id}", "dispute",
        {"dispute_id": dispute_id, "extended_to": due if extend else None},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "UPDATE disputes SET evidence = ?, due_at = ?, extended_at = ? WHERE dispute_id = ?",
            [combined, due, at if extend else dispute.extended_at, dispute_id],
        )
    return get_dispute(store, dispute_id)


def reinsert(
    store: Store,
    dispute_id: str,
    certification: str,
    *,
    furnisher_contact: str | None = None,
    actor: str = "operator",
    rescore: bool = True,
    now: dt.datetime | None = None,
) -> Dispute:
    """Put back an item a dispute removed, only on the furnisher's certification that it is
    accurate (R-FCRA-7); the person is told in their feed, with the furnisher's name, address
    and phone and their right to add a statement. The item is restored by a correction event
    that amends nothing. ``furnisher_contact``: needed where the furnisher is not a partner
    with an address on file (a source that loads files)."""
    dispute = get_dispute(store, dispute_id)
    if dispute.status not in ("corrected", "expired"):
        raise ConflictError(f"dispute {dispute_id} is {dispute.status}: nothing was removed")
    if not certification.strip():
        raise InputError(
            "field certification: the furnisher must certify the item is accurate",
            hint="reinsertion without certification is refused (FCRA 611(a)(5)(B))",
        )
    contact = _furnisher_contact(store, dispute.target_source, furnisher_contact)
    at = now_or(now)
    entry = AuditEntry(
        actor, "dispute.reinsert", f"person:{dispute.person_id}", "reinsertion",
        {"dispute_id": dispute_id,
         **seal(store, dispute.person_id, {"certification": certification})},
    )  # fmt: skip
    with store.write(entry) as con:
        event = CorrectionEvent(
            source_record_id=f"{dispute_id}-reinsertion",
            occurred_at=at,
            target_source=dispute.target_source,
            target_record_id=dispute.target_record_id,
            correction_action="amend",
            reason=f"reinserted on the furnisher's certification: {certification}",
            amendment="{}",
        )
        append_event(
            con, event, source=CORRECTION_SOURCE, person_id=dispute.person_id, recorded_at=at
        )
        con.execute(
            "UPDATE disputes SET status = 'reinserted', certification = ?, resolved_at = ?,"
            " resolved_by = ?, furnisher_contact = ? WHERE dispute_id = ?",
            [certification, at, actor, contact, dispute_id],
        )
    if rescore:
        rescore_correction_now(store, dispute.person_id, at)
    return get_dispute(store, dispute_id)


def _furnisher_contact(store: Store, source: str, given: str | None) -> str:
    """The furnisher as the reinsertion notice names it (FCRA 611(a)(5)(B)(iii)): the
    partner's name, address and phone on file, else what the operator gives."""
    if given is not None and given.strip():
        return given.strip()
    if source.startswith(PARTNER_SOURCE):
        partner = one(
            store.con,
            "SELECT name, address, phone FROM partners WHERE partner_id = ?",
            [source.removeprefix(PARTNER_SOURCE)],
        )
        if partner is not None and partner["address"]:
            phone = f", phone {partner['phone']}" if partner["phone"] else ""
            return f"{partner['name']}, {partner['address']}{phone}"
    raise InputError(
        "field furnisher_contact: give the furnisher's name, address and phone",
        hint=f"{source} has no address on file; the person's notice must name them (R-FCRA-7)",
    )


APPEAL_DAYS = 10
"""R-BL-4: an appeal is filed within 10 days of the decision..."""
APPEAL_DECIDE_DAYS = 15
"""...and decided within 15."""


def appeal_dispute(
    store: Store, person_id: str, dispute_id: str, statement: str, *,
    now: dt.datetime | None = None,
) -> Dispute:  # fmt: skip
    """Appeal a dispute closed against the person (verified, or frivolous) within
    :data:`APPEAL_DAYS`: it opens again, shown as disputed, with :data:`APPEAL_DECIDE_DAYS`
    to decide, and is resolved like any open dispute."""
    dispute = get_dispute(store, dispute_id)
    if dispute.person_id != person_id:
        raise NotFoundError(f"no dispute {dispute_id!r} in your file")
    if dispute.status not in ("verified", "frivolous") or dispute.appealed_at is not None:
        raise ConflictError(f"dispute {dispute_id} is {dispute.status}: it cannot be appealed")
    if not statement.strip():
        raise InputError("field statement: say why the decision is wrong")
    at = now_or(now)
    assert dispute.resolved_at is not None  # closed disputes have one
    if at > dispute.resolved_at + dt.timedelta(days=APPEAL_DAYS):
        raise ConflictError(
            f"dispute {dispute_id} was decided more than {APPEAL_DAYS} days ago",
            hint="open a new dispute with new information",
        )
    entry = AuditEntry(
        f"person:{person_id}", "dispute.appeal", f"person:{person_id}", "dispute",
        {"dispute_id": dispute_id},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "UPDATE disputes SET status = 'open', appealed_at = ?, due_at = ?,"
            " first_decided_by = resolved_by, statement = statement || ? WHERE dispute_id = ?",
            [at, at + dt.timedelta(days=APPEAL_DECIDE_DAYS), f"\n\nAppeal: {statement}",
             dispute_id],
        )  # fmt: skip
    return get_dispute(store, dispute_id)
