"""The person's own file and alert feed (SPEC S10, RULES R-FCRA-1, R-GDPR-2).

The file is everything held about the person: every event with its source and dates (and
whether it is disputed or corrected), every score with its reasons, the points-table rows of
the latest score, every inquiry (who, when, purpose, what was disclosed), consents, freezes
and disputes. The feed is derived from the same tables, so an alert cannot be missed by a
path that forgot to raise it: new inquiries, score changes beyond the policy's threshold, resolved
disputes, listings and their lifting (:mod:`credo.rights.alerts`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from credo.errors import NotFoundError
from credo.purposes import PURPOSE_LABELS
from credo.rights.alerts import dispute_alerts, listing_alerts, score_alerts
from credo.rights.audited import person_exists
from credo.rights.consent import consents, is_frozen, is_restricted
from credo.rights.disputes import list_disputes
from credo.rights.notices import notice_alerts
from credo.rights.source_notices import source_notice_alerts
from credo.store.db import Store
from credo.store.rows import rows

if TYPE_CHECKING:
    from credo.scoring.explain import ScoreExplanation

__all__ = ["feed", "person_file"]

_HIDDEN = {"load_id", "row_no", "national_id_hash", "phone_hash", "counterpart_national_id_hash",
           "counterpart_phone_hash"}  # fmt: skip


def _events(store: Store, person_id: str) -> list[dict[str, Any]]:
    events = rows(
        store.con,
        "SELECT e.* FROM events e JOIN event_persons p ON p.event_id = e.event_id"
        " AND p.role = 'subject' WHERE p.person_id = ? ORDER BY e.occurred_at, e.event_id",
        [person_id],
    )
    status = {
        int(d["event_id"]): d["status"]
        for d in rows(
            store.con,
            "SELECT event_id, arg_max(status, opened_at) AS status FROM disputes"
            " WHERE person_id = ? GROUP BY event_id",
            [person_id],
        )
    }
    corrected = {
        (c["target_source"], c["target_record_id"])
        for c in rows(
            store.con,
            "SELECT target_source, target_record_id FROM events WHERE event_type = 'correction'",
        )
    }
    out = []
    for event in events:
        item = {k: v for k, v in event.items() if v is not None and k not in _HIDDEN}
        item["dispute"] = status.get(int(item["event_id"]))
        item["corrected"] = (item["source"], item["source_record_id"]) in corrected
        for pii in ("national_id", "phone"):
            if event[f"{pii}_hash"] is not None:
                item[f"{pii}_given"] = True
        out.append(item)
    return out


def _scores(store: Store, person_id: str) -> list[dict[str, Any]]:
    scores = rows(
        store.con,
        "SELECT s.run_id, r.kind, s.as_of, s.score, s.band, s.previous_score, s.trend,"
        " s.reason_codes, s.reason_points, s.improve_codes, s.improve_points, s.court_listings,"
        " s.model_id, s.policy_version, r.policy_name, r.known_at AS run_known_at, r.created_at"
        " FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id"
        " WHERE s.person_id = ? ORDER BY s.as_of, r.seq",
        [person_id],
    )
    out = []
    for item in scores:
        item["reasons"] = [
            {"code": c, "points_lost": p}
            for c, p in zip(item.pop("reason_codes"), item.pop("reason_points"), strict=True)
        ]
        item["improvements"] = [
            {"feature": c, "points": p}
            for c, p in zip(item.pop("improve_codes"), item.pop("improve_points"), strict=True)
        ]
        out.append(item)
    return out


def _inquiries(store: Store, person_id: str) -> list[dict[str, Any]]:
    inquiries = rows(
        store.con,
        "SELECT i.inquiry_id, i.partner_id AS partner, p.name AS partner_name, i.kind,"
        " i.purpose, i.disclosed, i.ref_id, i.inquired_at AS at FROM inquiries i"
        " LEFT JOIN partners p USING (partner_id)"
        " WHERE i.person_id = ? ORDER BY i.inquired_at, i.inquiry_id",
        [person_id],
    )
    return [i | {"disclosed": json.loads(i["disclosed"])} for i in inquiries]


def person_file(
    store: Store, person_id: str, *, explanation: ScoreExplanation | None = None
) -> dict[str, Any]:
    """Everything held about the person (the caller audits the read). ``explanation``: the
    latest score's, when the caller has already made it (the person's page shows both)."""
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    from credo.scoring import explain_score

    scores = _scores(store, person_id)
    points_table: list[dict[str, Any]] = []
    if scores:
        explanation = explanation or explain_score(store, person_id)
        points_table = [
            {k: f[k] for k in ("feature", "dimension", "description", "value", "bin", "points")}
            for f in explanation.features
        ]
    return {
        "person": person_id,
        "frozen": is_frozen(store, person_id),
        "restricted": is_restricted(store, person_id),
        "events": _events(store, person_id),
        "scores": scores,
        "points_table": points_table,
        "inquiries": _inquiries(store, person_id),
        "consents": [asdict(c) for c in consents(store, person_id)],
        "disputes": [d.to_dict() for d in list_disputes(store, person_id=person_id)],
    }


def feed(store: Store, person_id: str) -> list[dict[str, Any]]:
    """Alerts, newest first: inquiries, score changes, resolved disputes, listings,
    adverse-action notices, notices of data furnished by others."""
    alerts: list[dict[str, Any]] = []
    for inq in _inquiries(store, person_id):
        alerts.append({"kind": "inquiry", "at": inq["at"], "about": inq["at"],
                       "text": f"{inq['partner_name'] or inq['partner']} asked for a"
                       f" {inq['kind']} for {PURPOSE_LABELS.get(inq['purpose'], inq['purpose'])}",
                       "ref": inq["inquiry_id"]})  # fmt: skip
    scores = _scores(store, person_id)
    disputes = [d.to_dict() for d in list_disputes(store, person_id=person_id)]
    alerts += score_alerts(scores)
    alerts += dispute_alerts(store, person_id, disputes, scores)
    alerts += listing_alerts(store, person_id)
    alerts += notice_alerts(store, person_id)
    alerts += source_notice_alerts(store, person_id)  # R-PIPL-2
    alerts.sort(key=lambda a: a["at"] or dt.datetime.min, reverse=True)
    return alerts
