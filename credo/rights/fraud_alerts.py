"""Fraud and active-duty alerts (RULES R-FCRA-16, FCRA §605A).

A person places an alert on their file: ``initial`` (1 year, for anyone who suspects fraud),
``extended`` (7 years, for a victim of identity theft, with the reference of their report) or
``active_duty`` (1 year, a service member away on duty). While an alert is in force every
decision carries it among its reasons and every report lists it, so the partner verifies the
person's identity before extending credit. Alerts end on schedule (their ``expires_at``; no job
needed: every reader compares with the time of the read) or when the person removes them; the
person renews an active-duty alert for another year from its end (:func:`renew_alert`).

Two duties of §605A beyond the alert itself (decision 0680):

* **Referral**: an alert placed here is referred to the other nationwide bureaus the
  installation's profile names (``fraud_alerts.refer_to``), queued in the placement's own
  transaction, due within ``fraud_alerts.refer_within_business_days``, and handed over in an
  audited export (:func:`export_referrals`), like the furnisher notices of R-FCRA-4.
* **Verification before credit**: a decision for a credit product about a person with an alert
  in force is not approved unless the partner's request carries how it verified the person's
  identity (:func:`verification_missing`); where the person gave a phone number with the alert,
  the partner must have called that number.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from credo.errors import InputError, NotFoundError
from credo.policy.rules import active_rules
from credo.rights.audited import person_exists
from credo.rights.consent import birth_date
from credo.rights.furnishers import add_business_days
from credo.rights.outbox import Outbox, export_path, queued, send
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.rows import insert, one, rows

__all__ = [
    "ALERT_CODES",
    "ALERT_REASONS",
    "CREDIT_PURPOSES",
    "RENEWABLE",
    "TERMS",
    "VERIFICATION_METHODS",
    "VERIFIED",
    "VERIFY_REQUIRED",
    "FraudAlert",
    "IdentityVerification",
    "ReferralExport",
    "alert_referrals",
    "alerts_in_force",
    "export_referrals",
    "phone_digits",
    "place_alert",
    "remove_alert",
    "renew_alert",
    "verification_missing",
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
VERIFY_REQUIRED = "identity_verification_required"
VERIFIED = "identity_verified"
ALERT_CODES = frozenset(r["code"] for r in ALERT_REASONS.values()) | {VERIFY_REQUIRED, VERIFIED}
"""Reasons that are for the partner (an alert and its verification), not factors of a decision."""


@dataclass(frozen=True)
class FraudAlert:
    alert_id: str
    person_id: str
    kind: str
    report_reference: str | None
    placed_at: dt.datetime
    expires_at: dt.datetime
    removed_at: dt.datetime | None
    phone: str | None = None
    """The number the person asked to be called on before credit is extended (605A(h))."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def place_alert(
    store: Store,
    person_id: str,
    kind: Kind,
    *,
    report_reference: str | None = None,
    phone: str | None = None,
    now: dt.datetime | None = None,
) -> FraudAlert:
    """Place an alert and, in the same transaction, queue its referral to each other
    nationwide bureau of the installation's profile."""
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    if kind not in TERMS:
        raise InputError(f"field kind: {kind!r} is not one of " + ", ".join(TERMS))
    if kind == "extended" and not (report_reference or "").strip():
        raise InputError(
            "field report_reference: an extended alert needs the identity-theft report's reference"
        )
    if phone is not None and not 7 <= len(phone_digits(phone)) <= 15:
        raise InputError(
            f"field phone: {phone!r} is not a phone number", hint="7 to 15 digits, e.g. +1 555 0100"
        )
    at = now_or(now)
    alert = FraudAlert(new_id("alr"), person_id, kind, report_reference, at,
                       at + dt.timedelta(days=TERMS[kind]), None, phone)  # fmt: skip
    rules = active_rules(store.settings).fraud_alerts
    due = add_business_days(at, rules.refer_within_business_days)
    referrals = [new_id("ref") for _ in rules.refer_to]
    entry = AuditEntry(f"person:{person_id}", "fraud_alert.place", f"person:{person_id}",
                       "fraud alert", {"alert_id": alert.alert_id, "kind": kind,
                                       "referrals": dict(zip(rules.refer_to, referrals,
                                                             strict=True))})  # fmt: skip
    with store.write(entry) as con:
        insert(con, "fraud_alerts", alert.to_dict())
        for bureau, referral_id in zip(rules.refer_to, referrals, strict=True):
            payload = {
                "type": "fraud_alert_referral", "referral_id": referral_id, "from": "credo",
                "kind": kind, "placed_at": at.isoformat(),
                "expires_at": alert.expires_at.isoformat(),
                "report_reference": report_reference,
            }  # fmt: skip
            insert(con, "alert_referrals", {
                "referral_id": referral_id, "alert_id": alert.alert_id, "person_id": person_id,
                "bureau": bureau, "payload": json.dumps(payload), "created_at": at,
                "due_at": due,
            })  # fmt: skip
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


def phone_digits(phone: str) -> str:
    """A phone number's digits only: how two writings of one number compare."""
    return re.sub(r"\D", "", phone)


CREDIT_PURPOSES = frozenset({"credit_transaction"})
"""Purposes that extend credit: §605A(h) asks the user to verify identity before extending it."""

VERIFICATION_METHODS = ("phone", "in_person", "document", "knowledge_based")


@dataclass(frozen=True)
class IdentityVerification:
    """How the partner verified the person's identity before extending credit (605A(h))."""

    method: str
    reference: str
    phone: str | None = None
    """With ``phone``: the number the partner called."""


def verification_missing(
    purpose: str, phones: Sequence[str], given: IdentityVerification | None
) -> str | None:
    """Why a credit decision about a person with an alert in force may not be approved yet, or
    None. ``phones``: the numbers the person gave with their alerts in force."""
    if purpose not in CREDIT_PURPOSES:
        return None
    if phones:
        called = phone_digits(given.phone or "") if given and given.method == "phone" else ""
        if (
            given is None
            or not given.reference.strip()
            or called not in {phone_digits(p) for p in phones}
        ):
            return (
                "the person asked to be called before credit is extended: call them at "
                + " or ".join(dict.fromkeys(phones))
                + " and send identity_verification with method 'phone', the number called and"
                " your reference"
            )
        return None
    if given is None or not given.reference.strip():
        return (
            "the person has a fraud alert: verify their identity and send"
            " identity_verification with the method and your reference"
        )
    return None


_REFERRALS = Outbox("alert_referrals", "referral_id", "bureau", ("alert_id",))


def alert_referrals(
    store: Store, *, bureau: str | None = None, pending: bool = True, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Queued referrals, oldest first (only those not yet exported, unless ``pending`` is
    false), each saying whether it is overdue."""
    return queued(store, _REFERRALS, bureau, pending=pending, at=now_or(now))


@dataclass(frozen=True)
class ReferralExport:
    bureau: str
    referrals: int
    file: str | None
    exported_at: dt.datetime
    payloads: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _identity(store: Store, person_id: str) -> dict[str, Any]:
    """Who the referral is about, as the other bureau matches them: the newest name and address
    their records give and their birth date, read at the export (the queue holds no personal
    data, so an erasure before the export leaves none behind)."""
    found = one(
        store.con,
        "SELECT arg_max(e.name, e.occurred_at) FILTER (WHERE e.name IS NOT NULL) AS name,"
        " arg_max(e.address, e.occurred_at) FILTER (WHERE e.address IS NOT NULL) AS address"
        " FROM events e JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE p.person_id = ?",
        [person_id],
    )
    born = birth_date(store, person_id)
    return {**(found or {}), "birth_date": born.isoformat() if born else None}


def export_referrals(
    store: Store,
    bureau: str,
    folder: Path | None = None,
    *,
    actor: str = "operator",
    now: dt.datetime | None = None,
) -> ReferralExport:
    """Hand over every pending referral to ``bureau``: written as JSON lines to a new file in
    ``folder`` (or returned only, for the API's answer), marked exported, audited. Each
    payload names the person as the other bureau matches them and the alert's phone, read
    now; an alert removed since is sent as removed."""
    if not bureau.strip():
        raise InputError("field bureau: name the bureau")
    at = now_or(now)
    pending = alert_referrals(store, bureau=bureau, now=at)
    path = export_path(folder, f"{bureau}-fraud-alerts-{at:%Y%m%dT%H%M%S}.jsonl")
    payloads = []
    for r in pending:
        alert = one(
            store.con,
            "SELECT person_id, phone, removed_at FROM fraud_alerts WHERE alert_id = ?",
            [r["alert_id"]],
        )
        if alert is None:  # the person was erased since: nothing left to refer
            continue
        payloads.append({**r["payload"], "person": _identity(store, alert["person_id"]),
                         "phone": alert["phone"],
                         "removed": alert["removed_at"] is not None})  # fmt: skip
    ids = [r["referral_id"] for r in pending]
    entry = AuditEntry(
        actor, "fraud_alert.referrals.export", f"bureau:{bureau}", "fraud alert referral",
        {"referrals": ids, "file": str(path) if path else None},
    )  # fmt: skip
    send(store, _REFERRALS, entry, ids, payloads, path, at)
    return ReferralExport(bureau, len(payloads), str(path) if path else None, at, tuple(payloads))
