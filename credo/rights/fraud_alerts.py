"""Fraud and active-duty alerts (RULES R-FCRA-16, FCRA §605A).

A person places an alert on their file: ``initial`` (1 year, for anyone who suspects fraud),
``extended`` (7 years, for a victim of identity theft, with the reference of their report) or
``active_duty`` (1 year, a service member away on duty). While an alert is in force every
decision carries it among its reasons and every report lists it, so the partner verifies the
person's identity before extending credit. Alerts end on schedule (their ``expires_at``; no job
needed: every reader compares with the time of the read) or when the person removes them; the
person renews an active-duty alert for another year from its end (:func:`renew_alert`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal

from credo.errors import InputError, NotFoundError
from credo.rights.audited import person_exists
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.rows import insert, rows

__all__ = [
    "ALERT_CODES",
    "ALERT_REASONS",
    "RENEWABLE",
    "TERMS",
    "FraudAlert",
    "alerts_in_force",
    "place_alert",
    "remove_alert",
    "renew_alert",
]

Kind = Literal["initial", "extended", "active_duty"]

TERMS: dict[str, int] = {"initial": 365, "extended": 7 * 365 + 2, "active_duty": 365}
"""Days an alert stays in force: 1 year, 7 years (with the leap days), 1 year."""

ALERT_REASONS: dict[str, dict[str, str]] = {
    "initial": {"code": "fraud_alert", "text": "the person reported possible fraud: verify"
                " their identity before extending credit"},
    "extended": {"code": "extended_fraud_alert", "text": "the person is a victim of identity"
                 " theft: contact them to verify their identity before extending credit"},
    "active_duty": {"code": "active_duty_alert", "text": "the person is on active military"
                    " duty: verify their identity before extending credit"},
}  # fmt: skip
"""What a decision says for each alert in force (FCRA §605A(h): verify before extending)."""
ALERT_CODES = frozenset(r["code"] for r in ALERT_REASONS.values())


@dataclass(frozen=True)
class FraudAlert:
    alert_id: str
    person_id: str
    kind: str
    report_reference: str | None
    placed_at: dt.datetime
    expires_at: dt.datetime
    removed_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def place_alert(
    store: Store,
    person_id: str,
    kind: Kind,
    *,
    report_reference: str | None = None,
    now: dt.datetime | None = None,
) -> FraudAlert:
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    if kind not in TERMS:
        raise InputError(f"field kind: {kind!r} is not one of " + ", ".join(TERMS))
    if kind == "extended" and not (report_reference or "").strip():
        raise InputError(
            "field report_reference: an extended alert needs the identity-theft report's reference"
        )
    at = now_or(now)
    alert = FraudAlert(new_id("alr"), person_id, kind, report_reference, at,
                       at + dt.timedelta(days=TERMS[kind]), None)  # fmt: skip
    entry = AuditEntry(f"person:{person_id}", "fraud_alert.place", f"person:{person_id}",
                       "fraud alert", {"alert_id": alert.alert_id, "kind": kind})  # fmt: skip
    with store.write(entry) as con:
        insert(con, "fraud_alerts", alert.to_dict())
    return alert


def remove_alert(
    store: Store, person_id: str, alert_id: str, *, now: dt.datetime | None = None
) -> None:
    """Only the person removes their own alert before its term ends."""
    found = [a for a in alerts_in_force(store, person_id, now=now) if a.alert_id == alert_id]
    if not found:
        raise NotFoundError(f"no alert {alert_id!r} in force on your file")
    entry = AuditEntry(f"person:{person_id}", "fraud_alert.remove", f"person:{person_id}",
                       "fraud alert", {"alert_id": alert_id})  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "UPDATE fraud_alerts SET removed_at = ? WHERE alert_id = ?", [now_or(now), alert_id]
        )


RENEWABLE = ("active_duty",)
"""FCRA 605A(c): an active-duty alert lasts a year and may be renewed; the others are placed
again (an initial one) or run their 7 years (an extended one)."""


def renew_alert(
    store: Store, person_id: str, alert_id: str, *, now: dt.datetime | None = None
) -> FraudAlert:
    """Renew the person's own active-duty alert in force for another term, from its end."""
    at = now_or(now)
    found = [a for a in alerts_in_force(store, person_id, now=at) if a.alert_id == alert_id]
    if not found:
        raise NotFoundError(f"no alert {alert_id!r} in force on your file")
    alert = found[0]
    if alert.kind not in RENEWABLE:
        raise InputError(
            f"field kind: a {alert.kind} alert is not renewed",
            hint="an initial alert is placed again; an extended one lasts 7 years",
        )
    expires = alert.expires_at + dt.timedelta(days=TERMS[alert.kind])
    details = {"alert_id": alert_id, "expires_at": expires.isoformat()}
    entry = AuditEntry(
        f"person:{person_id}", "fraud_alert.renew", f"person:{person_id}", "fraud alert", details
    )
    with store.write(entry) as con:
        con.execute(
            "UPDATE fraud_alerts SET expires_at = ? WHERE alert_id = ?", [expires, alert_id]
        )
    return FraudAlert(**{**alert.to_dict(), "expires_at": expires})


def alerts_in_force(
    store: Store, person_id: str, *, now: dt.datetime | None = None
) -> list[FraudAlert]:
    at = now_or(now)
    return [
        FraudAlert(**r)
        for r in rows(
            store.con,
            "SELECT * FROM fraud_alerts WHERE person_id = ? AND removed_at IS NULL"
            " AND placed_at <= ? AND expires_at > ? ORDER BY placed_at",
            [person_id, at, at],
        )
    ]
