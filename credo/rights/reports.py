"""Risk reports and outcomes (SPEC S8), each behind the person's consent.

A report is checked like a decision (the partner's consent for the purpose, then the freeze),
is stored as an inquiry the person sees, and records the score run it used. Its ``accounts``
section (the person's loan accounts: financial accounts, sensitive data under PIPL Art. 28) is
given only on request and, where the partner's rules profile says so, only with the person's
separate consent for that partner and purpose (R-PIPL-3). No section carries asset data (tax
paid, vehicles: R-CRR-4); the score's band reflects it only where the person consented.

An outcome is accepted only from a partner that served the person (a prior decision) and
becomes an event for the next scoring.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from credo.errors import ForbiddenError, InputError
from credo.features import PointInTime, listings_sql
from credo.features.sql import known_events
from credo.ingest.events import LoanEvent, RentalEvent
from credo.policy.rules import active_rules
from credo.rights.audited import append_event
from credo.rights.consent import (
    birth_date,
    is_minor,
    minor_refused,
    require_consent,
    require_not_frozen,
    require_not_restricted,
    require_sensitive_consent,
)
from credo.rights.decisions import open_disputed_items
from credo.rights.disputes import disputed_items
from credo.rights.fraud_alerts import ALERT_REASONS, alerts_in_force
from credo.rights.jurisdiction import partner_rules
from credo.scoring.latest import latest_snapshot
from credo.sql import dialect
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.rows import insert, rows

__all__ = ["record_outcome", "risk_report"]


def _inquiry(
    con: duckdb.DuckDBPyConnection,
    person_id: str,
    partner_id: str,
    kind: str,
    purpose: str,
    disclosed: dict[str, Any],
    ref_id: str,
    at: dt.datetime,
) -> None:
    insert(
        con,
        "inquiries",
        {
            "inquiry_id": new_id("inq"),
            "person_id": person_id,
            "partner_id": partner_id,
            "kind": kind,
            "purpose": purpose,
            "disclosed": json.dumps(disclosed, ensure_ascii=False, default=str),
            "ref_id": ref_id,
            "inquired_at": at,
        },
    )


def _payments(store: Store, pit: PointInTime, person_id: str) -> dict[str, dict[str, int]]:
    """Rent and utility bills of the last 24 months: how many, paid on time, late, unpaid."""
    bills = known_events(dialect("duckdb"), pit, ["bill"], person=person_id)
    record = {
        r.pop("bill_kind"): {k: int(v) for k, v in r.items()}
        for r in rows(
            store.con,
            "SELECT bill_kind, count(*) AS bills,"
            " count(*) FILTER (paid_date <= due_date) AS paid_on_time,"
            " count(*) FILTER (paid_date > due_date) AS paid_late,"
            " count(*) FILTER (paid_date IS NULL) AS unpaid"
            f" FROM {bills} k WHERE bill_kind IN ('rent', 'utility') AND due_date >= ?"
            " GROUP BY bill_kind ORDER BY bill_kind",
            [pit.since(24)],
        )
    }
    none = {"bills": 0, "paid_on_time": 0, "paid_late": 0, "unpaid": 0}
    return {k: record.get(k, dict(none)) for k in ("rent", "utility")}


def _listings(store: Store, pit: PointInTime, person_id: str) -> list[dict[str, Any]]:
    """Court listings in force, each saying whether the person disputes it."""
    disputed = {(d["source"], d["record_id"]) for d in open_disputed_items(store, person_id)}
    grace = active_rules(store.settings).court_list.grace_months  # R-BL-2: none shown before
    return [
        {
            "court": listing["court"],
            "case_number": listing["case_number"],
            "listed_on": listing["listed_on"],
            "disputed": (listing["source"], listing["source_record_id"]) in disputed,
        }
        for listing in rows(
            store.con,
            f"SELECT l.court, l.case_number, l.listed_on, e.source, e.source_record_id"
            f" FROM ({listings_sql(pit, grace_months=grace)}) l"
            " JOIN events e ON e.event_id = l.event_id"
            " WHERE l.person_id = ? ORDER BY l.listed_on",
            [person_id],
        )
    ]


def _accounts(store: Store, pit: PointInTime, person_id: str) -> list[dict[str, Any]]:
    """The person's loan accounts: when each opened, its status, the most days past due in 24
    months (sensitive data: financial accounts, PIPL Art. 28)."""
    loans = known_events(dialect("duckdb"), pit, ["loan"], person=person_id)
    return rows(
        store.con,
        "SELECT account_id, min(occurred_at)::DATE AS opened,"
        " CASE WHEN bool_or(loan_event IN ('default', 'bankruptcy')) THEN 'defaulted'"
        " WHEN bool_or(loan_event = 'closed') THEN 'closed' ELSE 'open' END AS status,"
        " coalesce(max(days_past_due) FILTER (due_date >= ?), 0) AS worst_days_past_due_24m"
        f" FROM {loans} k GROUP BY account_id ORDER BY opened, account_id",
        [pit.since(24)],
    )


def risk_report(
    store: Store,
    partner_id: str,
    person_id: str,
    purpose: str,
    *,
    accounts: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Score band, rent and utility payment record (24 months) and court listings; with
    ``accounts``, the loan accounts too, behind the separate consent (R-PIPL-3)."""
    rules = partner_rules(store, partner_id)
    permitted = rules.reports.purposes
    if purpose not in permitted:
        raise InputError(
            f"field purpose: {purpose!r} is not a permissible purpose",
            hint="one of " + ", ".join(permitted),
        )
    require_consent(store, person_id, partner_id, purpose)
    if accounts and rules.consents.sensitive_separate:
        require_sensitive_consent(store, person_id, partner_id, purpose)
    require_not_frozen(store, person_id)
    require_not_restricted(store, person_id)
    at = now_or(now)
    if is_minor(birth_date(store, person_id), at.date()):
        raise minor_refused()
    pit = PointInTime(at.date(), at)
    snap = latest_snapshot(store, person_id)
    report: dict[str, Any] = {
        "report_id": new_id("rep"),
        "person": person_id,
        "purpose": purpose,
        "as_of": at.date(),
        "band": snap.band if snap else None,
        "scored_as_of": snap.as_of if snap else None,
        "payments": _payments(store, pit, person_id),
        "court_listings": _listings(store, pit, person_id),
        "disputed_items": disputed_items(store, person_id),
        "alerts": [ALERT_REASONS[a.kind] for a in alerts_in_force(store, person_id, now=at)],
    }  # fmt: skip
    disclosed = ["band", "payments", "court_listings"]
    if accounts:
        report["accounts"] = _accounts(store, pit, person_id)
        disclosed.append("accounts")
    entry = AuditEntry(
        f"partner:{partner_id}", "report", f"person:{person_id}", purpose,
        {"report_id": report["report_id"], "run_id": snap.run_id if snap else None},
    )  # fmt: skip
    with store.write(entry) as con:
        _inquiry(con, person_id, partner_id, "report", purpose,
                 {k: report[k] for k in disclosed},
                 report["report_id"], at)  # fmt: skip
    return report


def record_outcome(
    store: Store,
    partner_id: str,
    person_id: str,
    decision_id: str,
    event: RentalEvent | LoanEvent,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Store what happened after a decision as an event from the partner; returns its id."""
    served = store.scalar(
        "SELECT count(*) FROM decisions WHERE decision_id = ? AND partner_id = ? AND person_id = ?",
        [decision_id, partner_id, person_id],
    )
    if not served:
        raise ForbiddenError(
            "no decision by this partner for this person: outcomes are accepted only for persons"
            " the partner served",
            hint="give the decision_id of your decision",
        )
    require_not_restricted(store, person_id)
    if isinstance(event, RentalEvent):
        event = event.model_copy(update={"partner": partner_id})
    at = now_or(now)
    entry = AuditEntry(
        f"partner:{partner_id}", "outcome", f"person:{person_id}", "partner feedback",
        {"decision_id": decision_id, "event_type": event.event_type,
         "record_id": event.source_record_id},
    )  # fmt: skip
    with store.write(entry) as con:
        return append_event(
            con, event, source=f"partner:{partner_id}", person_id=person_id, recorded_at=at
        )
