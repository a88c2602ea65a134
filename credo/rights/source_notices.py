"""Notices of data furnished by others (RULES R-PIPL-2, PIPL Art. 17; decision 0692).

Every source that furnishes data about a person gives the person a notice: who furnished it,
what kinds of data, why Credo processes it, how long it is kept, and how to use their rights,
with the active rules profile's figures. Like adverse-action notices (decision 0642) the notice
is derived, not stored: it exists from the moment the source's first record about the person is
recorded and linked to them, so it cannot be forgotten by any path that loads data. A monthly
run reads only events recorded by its watermark and linked when it runs, so the first run that
scores a source's data always comes after that source's notice; the notice names that run.
Credo's own records (the person's consents, a term ended by Credo's clock) are not furnished
by others and have no notice.
"""

from __future__ import annotations

from typing import Any

from credo.policy.rules import RulesProfile, active_rules
from credo.purposes import PURPOSE_LABELS
from credo.rights.notices import bureau_contact
from credo.store.db import Store
from credo.store.rows import one, rows

__all__ = ["DATA_TYPE_WORDS", "OWN_SOURCE_PREFIX", "source_notice_alerts", "source_notices"]

OWN_SOURCE_PREFIX = "credo_"
"""Sources named so are Credo's own records (``credo_person``, ``credo_court_term``)."""

DATA_TYPE_WORDS: dict[str, str] = {
    "payment": "payments you made",
    "bill": "bills and whether they were paid (utility, rent, phone, fines, tax)",
    "loan": "loan accounts and their repayment",
    "rental": "rentals and how they were returned",
    "court_judgment": "court judgments and the list of judgment defaulters",
    "attribute": "identity attributes (verified identity, education, employer, address,"
    " vehicle, time with the employer)",
    "connection": "your contacts",
    "conduct": "conduct records issued by an authority",
    "consent": "consents you gave",
    "correction": "corrections of earlier records",
}
"""Each event type in the words a notice uses."""


def _rights(rules: RulesProfile) -> list[str]:
    n = rules.notices
    return [
        "see your whole file and where each item came from, free, at any time",
        f"dispute any item; it is checked and answered within {rules.disputes.days} days",
        "restrict the processing of your data, object to it, or withdraw any consent",
        "have your data erased (a court listing in force is kept until the court lifts it)",
        f"every request is answered within {n.request_response_days} days",
    ]


def source_notices(store: Store, person_id: str) -> list[dict[str, Any]]:
    """One notice per source that furnished data about the person, oldest first."""
    rules = active_rules(store.settings)
    bureau = bureau_contact(store.settings)
    retention = {
        "adverse_years": rules.retention.adverse_years,
        "clock": rules.retention.clock,
        "text": f"negative items are deleted {rules.retention.adverse_years} years after"
        + {
            "end_of_event": " the end of the act",
            "first_delinquency": f" the first delinquency plus"
            f" {rules.retention.delinquency_grace_days} days",
            "occurrence": " they happened",
        }[rules.retention.clock]
        + "; everything else is kept while you are enrolled, until you ask for erasure",
    }
    purposes = [PURPOSE_LABELS.get(p, p) for p in rules.reports.purposes]
    notices = []
    for s in rows(
        store.con,
        "SELECT e.source, min(e.recorded_at) AS received_at, count(*) AS records,"
        " list(DISTINCT e.event_type ORDER BY e.event_type) AS data_types,"
        " any_value(pa.name) AS partner_name,"
        " any_value(coalesce(pa.name, src.mapping->>'description')) AS described"
        " FROM events e JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
        " LEFT JOIN sources src ON src.source = e.source"
        " LEFT JOIN partners pa ON 'partner:' || pa.partner_id = e.source"
        " WHERE p.person_id = ? AND NOT starts_with(e.source, ?)"
        " GROUP BY e.source ORDER BY received_at, e.source",
        [person_id, OWN_SOURCE_PREFIX],
    ):
        first_run = one(
            store.con,
            "SELECT run_id, as_of, created_at FROM score_runs WHERE known_at >= ?"
            " AND (person_id IS NULL OR person_id = ?) ORDER BY created_at, seq LIMIT 1",
            [s["received_at"], person_id],
        )
        notices.append(
            {
                "notice_id": f"src_{s['source']}",
                "furnisher": s["source"],
                # In words for the feed: the partner's name, else the source's name spaced.
                "furnisher_name": s["partner_name"]
                or s["source"].removeprefix("partner:").replace("_", " "),
                "furnisher_description": s["described"],
                "received_at": s["received_at"],
                "records": s["records"],
                "data_types": [DATA_TYPE_WORDS.get(t, t) for t in s["data_types"]],
                "controller": bureau,
                "purposes": purposes,
                "retention": retention,
                "rights": _rights(rules),
                "first_scored_in": first_run,
                "profile": rules.name,
            }
        )
    return notices


def source_notice_alerts(store: Store, person_id: str) -> list[dict[str, Any]]:
    """The notices as feed alerts, dated when the first record arrived."""
    return [
        {
            "kind": "furnished_data",
            "at": n["received_at"],
            "text": f"{n['furnisher_name']} furnished data about you"
            f" ({'; '.join(n['data_types'])}):"
            f" used for {', '.join(n['purposes'])}; {n['retention']['text']}",
            "ref": n["notice_id"],
        }
        for n in source_notices(store, person_id)
    ]
