"""The person's alerts, derived from the tables (SPEC S10, issue 14, docs/decisions/0533).

Derived, not sent: an alert cannot be missed by a path that forgot to raise it. Each alert
names what it is about: a score change names the month of the score (not the day it was
loaded) and alerts whenever the change reaches the policy's ``alerts.score_change_points``,
from the trend the snapshot recorded, so the page and the alert never disagree; a resolved
dispute says how its correction re-score moved the score; a listing says when it is lifted.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from credo.errors import ConfigError
from credo.policy.schema import Alerts, ScoringPolicy, load_policy
from credo.store.db import Store
from credo.store.rows import one, rows

__all__ = ["dispute_alerts", "listing_alerts", "score_alerts"]

_RESOLVED = {"corrected": "corrected", "expired": "removed (not verified in time)",
             "verified": "verified as accurate; the item stays",
             "frivolous": "closed without investigation as frivolous or irrelevant",
             "reinserted": "the item was put back"}  # fmt: skip


def _rules(policy_name: str, cache: dict[str, Alerts]) -> Alerts:
    """The alert rules of the policy that made a score (defaults for a points regime)."""
    if policy_name not in cache:
        try:
            policy = load_policy(policy_name).policy
        except ConfigError:  # a policy no longer shipped: its scores still alert
            policy = None
        cache[policy_name] = policy.alerts if isinstance(policy, ScoringPolicy) else Alerts()
    return cache[policy_name]


def _when(score: dict[str, Any]) -> str:
    day: dt.date = score["as_of"]
    if score["kind"] == "monthly":
        return f"{day:%B %Y} score"
    return f"score re-computed off-cycle as of {day}"


def score_alerts(scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A change of the policy's threshold or more, scheduled or off-cycle; a correction's own
    change is told by its dispute's alert."""
    cache: dict[str, Alerts] = {}
    alerts = []
    for s in scores:
        trend = s["trend"]
        if s["kind"] == "correction" or trend is None:
            continue
        if abs(trend) >= _rules(s["policy_name"], cache).score_change_points:
            alerts.append({
                "kind": "score_change", "at": s["created_at"], "about": s["as_of"],
                "text": f"Your {_when(s)}: {s['previous_score']:.0f} -> {s['score']:.0f}"
                f" ({trend:+.0f} points, {s['band']})", "ref": s["run_id"],
            })  # fmt: skip
    return alerts


def _item(store: Store, dispute: dict[str, Any]) -> str:
    """The disputed item in the person's words: a judgment by its case, else kind and record."""
    item = one(
        store.con,
        "SELECT event_type, court, case_number FROM events WHERE event_id = ?",
        [dispute["event_id"]],
    )
    if item is None:
        return f"record {dispute['target_record_id']}"
    if item["event_type"] == "court_judgment":
        return f"the court listing by {item['court']} (case {item['case_number']})"
    return f"the {item['event_type'].replace('_', ' ')} record {dispute['target_record_id']}"


def _why(d: dict[str, Any]) -> str:
    """What a closed-against-you result must say: the reasons and what to send (R-FCRA-5),
    or who certified a reinsertion and your right to add a statement (R-FCRA-7)."""
    if d["status"] == "frivolous":
        return f" ({d['note']}); to have it investigated, send: {d['needed']}"
    if d["status"] == "reinserted":
        return (
            f" on the certification of its furnisher {d['target_source']} ({d['certification']});"
            f" the furnisher: {d['furnisher_contact']};"
            " you may add a statement of dispute to your file"
        )
    return ""


def dispute_alerts(
    store: Store, person_id: str, disputes: list[dict[str, Any]], scores: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One per resolved dispute: the item, the outcome and, after a correction, the score
    before and after its re-score (made at the same month, so the change is the correction's)."""
    alerts = []
    for d in disputes:
        if d["status"] not in _RESOLVED:
            continue
        text = f"Your dispute about {_item(store, d)} was resolved: {_RESOLVED[d['status']]}"
        text += _why(d)
        # The re-score that applied the correction: its corrections watermark is the resolution.
        resolved = d["resolved_at"]
        rescored = next(
            (s for s in scores if s["kind"] == "correction" and s["run_known_at"] >= resolved),
            None,
        )
        if rescored is not None and rescored["previous_score"] is not None:
            text += (
                f"; score {rescored['previous_score']:.0f} -> {rescored['score']:.0f}"
                f" ({rescored['as_of']:%B %Y} score, corrected)"
            )
        alerts.append({"kind": "dispute", "at": d["resolved_at"], "about": d["resolved_at"],
                       "text": text, "ref": d["dispute_id"]})  # fmt: skip
    return alerts


_LISTINGS = (
    "SELECT e.event_id, e.source, e.source_record_id, e.court, e.case_number, e.listed_on,"
    " e.recorded_at, e.judgment_status, e.satisfied_on, e.occurred_at FROM events e"
    " JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
    " WHERE p.person_id = ? AND e.event_type = 'court_judgment' ORDER BY e.occurred_at, e.event_id"
)
_CORRECTIONS = (
    "SELECT correction_action, amendment, recorded_at FROM events WHERE event_type = 'correction'"
    " AND target_source = ? AND target_record_id = ? ORDER BY occurred_at, recorded_at, event_id"
)


def listing_alerts(store: Store, person_id: str) -> list[dict[str, Any]]:
    """A listing when it is recorded, and when it is lifted: the court reports the judgment
    satisfied, or a correction retracts the listing or amends it to satisfied."""
    alerts = []
    for e in rows(store.con, _LISTINGS, [person_id]):
        case = f"{e['court']} (case {e['case_number']})"
        if e["judgment_status"] == "listed":
            alerts.append({"kind": "listing", "at": e["recorded_at"], "about": e["listed_on"],
                           "text": f"Listed by {case} on {e['listed_on']}",
                           "ref": str(e["event_id"])})  # fmt: skip
            for c in rows(store.con, _CORRECTIONS, [e["source"], e["source_record_id"]]):
                amended = json.loads(c["amendment"] or "{}").get("judgment_status")
                if c["correction_action"] == "retract" or amended == "satisfied":
                    how = "retracted" if c["correction_action"] == "retract" else "corrected"
                    alerts.append(_lifted(e, case, c["recorded_at"], f"the listing was {how}"))
        elif e["judgment_status"] == "satisfied":
            reason = f"the judgment was satisfied on {e['satisfied_on'] or e['occurred_at'].date()}"
            alerts.append(_lifted(e, case, e["recorded_at"], reason))
    return alerts


def _lifted(e: dict[str, Any], case: str, at: dt.datetime, reason: str) -> dict[str, Any]:
    return {"kind": "listing_lifted", "at": at, "about": at,
            "text": f"Listing by {case} lifted: {reason}; the score is no longer capped",
            "ref": str(e["event_id"])}  # fmt: skip
