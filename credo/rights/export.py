"""The access and portability export (RULES R-GDPR-2, R-GDPR-2a, R-PIPL-4; decision 0671).

GDPR Art. 15 owes the person, besides a copy of their data, its purposes, its recipients, how
long it is kept, where it came from, and meaningful information about the automated
decision-making: the procedure actually applied, concisely (CJEU C-203/22), which may show how
different data would have changed the result. PIPL Arts. 45 asks for a copy the person can take
to another processor. One JSON document answers both: ``credo-export`` version 1, every section
keyed and typed, downloaded as a file. Every export is a request in the tracker (kind
``access``), answered at once.

The counterfactuals are computed, not worded: each says what the score would be if one
feature moved to its next better bin, from the person's own points (the test re-scores the
person with the feature moved and gets the same number).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from credo.errors import NotFoundError
from credo.policy.rules import active_rules
from credo.purposes import PURPOSE_LABELS
from credo.rights.audited import person_exists
from credo.rights.file import person_file
from credo.rights.requests import open_request
from credo.store.audit import AuditEntry
from credo.store.db import Store, now_or

__all__ = [
    "BUNDLE",
    "FORMAT",
    "VERSION",
    "access_export",
    "canonical",
    "counterfactuals",
    "export_bytes",
    "model_rows",
    "regulator_bundle",
]

FORMAT = "credo-export"
VERSION = 1

_LOGIC = (
    "Credo scores a person with a points table (a scorecard): each feature of their file (for"
    " example, bills paid late in the last year) falls in one bin of the table, each bin"
    " carries points, and the score is the sum of the points, kept within the score range."
    " The reasons are the features where the person's bin lost the most points against the"
    " best bin they could reach; a court listing in force caps the score. The same model,"
    " policy and data always give the same score."
)
_SIGNIFICANCE = (
    "Partners you consent to use the score to decide on a product (for example, whether a"
    " deposit is needed). A decline or worse terms gives you a notice with its key factors, and"
    " you can ask for a human to review any decision or the score itself."
)


def counterfactuals(
    explanation: Any, model_rows: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """For each suggested improvement: the score if that one feature were in its better bin
    (``model_rows``: the model's points-table rows per feature)."""
    low, high = explanation.score_range
    capped = any(r.get("code") == "court_list" for r in explanation.reasons)
    features = {f["feature"]: f for f in explanation.features}
    out = []
    for i in explanation.improvements:
        row = features[i["feature"]]
        target = next((b for b in model_rows[i["feature"]] if b["bin"] == i["to_bin"]), None)
        score = explanation.score if capped else min(high, max(low, explanation.score + i["gain"]))
        out.append({
            "feature": i["feature"], "description": row["description"],
            "now": row["bin"]["description"],
            "if": target["description"] if target else None,
            "score_now": explanation.score, "score_would_be": score,
            "text": f"If {row['description']} were {target['description'] if target else '?'},"
            f" your score would be {score:g} instead of {explanation.score:g}"
            + (" (capped while a court listing is in force)" if capped else ""),
        })  # fmt: skip
    return out


def _recipients(file: dict[str, Any]) -> list[dict[str, Any]]:
    """Who received a decision or report about the person, grouped by partner (Art. 15(1)(c))."""
    by: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = defaultdict(int)
    for inq in file["inquiries"]:
        p = inq["partner"]
        entry = by.setdefault(p, {
            "partner": p, "name": inq["partner_name"], "received": set(), "purposes": set(),
            "first": inq["at"], "last": inq["at"],
        })  # fmt: skip
        entry["received"].add(inq["kind"])
        entry["purposes"].add(inq["purpose"])
        entry["first"] = min(entry["first"], inq["at"])
        entry["last"] = max(entry["last"], inq["at"])
        counts[p] += 1
    return [
        e | {"received": sorted(e["received"]), "purposes": sorted(e["purposes"]),
             "times": counts[p]}
        for p, e in sorted(by.items())
    ]  # fmt: skip


def _retention(store: Store, person_id: str, file: dict[str, Any]) -> dict[str, Any]:
    """How long each item is kept (Art. 15(1)(d)): adverse items by the profile's clock."""
    from credo.scoring.retention import purge_dates

    profile = active_rules(store.settings)
    dates = purge_dates(store, person_id)
    items = []
    for e in file["events"]:
        event_id = int(e["event_id"])
        adverse = event_id in dates
        items.append({
            "event_id": event_id, "event_type": e["event_type"], "source": e["source"],
            "adverse": adverse, "kept_until": dates.get(event_id),
            "rule": (f"an adverse item: kept {profile.retention.adverse_years} years from its"
                     f" clock ({profile.retention.clock.replace('_', ' ')})"
                     + ("; a court listing stays while in force" if e["event_type"] ==
                        "court_judgment" else "")) if adverse
            else "kept while you are enrolled; erased on your request",
        })  # fmt: skip
    return {
        "profile": profile.name,
        "adverse_years": profile.retention.adverse_years,
        "bankruptcy_years": profile.retention.bankruptcy_years,
        "clock": profile.retention.clock,
        "public_register_cap": profile.retention.public_register_cap,
        "items": items,
    }


def _sources(file: dict[str, Any]) -> list[dict[str, Any]]:
    counts: dict[str, int] = defaultdict(int)
    for e in file["events"]:
        counts[e["source"]] += 1
    return [{"source": s, "events": n} for s, n in sorted(counts.items())]


def access_export(
    store: Store, person_id: str, *, contact: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The person's export, recorded (and audited) as an access request answered at once;
    ``contact``: the operator's privacy contact (the API's ``privacy_contact``)."""
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    at = now_or(now)
    from credo.scoring import explain_score

    explanation = None
    if store.scalar("SELECT count(*) FROM score_snapshots WHERE person_id = ?", [person_id]):
        explanation = explain_score(store, person_id)
    file = person_file(store, person_id, explanation=explanation)
    profile = active_rules(store.settings)
    automated: dict[str, Any] = {"exists": True, "logic": _LOGIC, "significance": _SIGNIFICANCE}
    if explanation is not None:
        automated |= {
            "score": explanation.score, "band": explanation.band,
            "score_range": list(explanation.score_range), "as_of": explanation.as_of,
            "model_id": explanation.model_id, "policy": explanation.policy,
            "reasons": explanation.reasons, "contributions": file["points_table"],
            "counterfactuals": counterfactuals(
                explanation, model_rows(store, explanation.model_id)
            ),
        }  # fmt: skip
    export = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": at,
        "person": person_id,
        "controller": {"name": "Credo", "contact": contact},
        "purposes": [{"purpose": "credit_scoring", "label": "scoring your creditworthiness"}]
        + [{"purpose": p, "label": PURPOSE_LABELS.get(p, p)} for p in profile.reports.purposes],
        "recipients": _recipients(file),
        "retention": _retention(store, person_id, file),
        "sources": _sources(file),
        "automated_decision_making": automated,
        "data": file,
    }
    entry = AuditEntry(
        f"person:{person_id}", "request.access", f"person:{person_id}", "access export",
        {"events": len(file["events"])},
    )  # fmt: skip
    with store.write(entry) as con:
        export["request_id"] = open_request(con, store, person_id, "access", at, status="done")
    return export


def export_bytes(export: dict[str, Any]) -> bytes:
    """The export as the file handed over: UTF-8 JSON, times in RFC 3339 with their zone."""

    def encode(value: Any) -> str:
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return aware.isoformat().replace("+00:00", "Z")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)  # exact, as the API's answers give amounts
        raise TypeError(f"not JSON: {type(value).__name__}")

    return json.dumps(export, default=encode, ensure_ascii=False, indent=1).encode()


def model_rows(store: Store, model_id: str) -> dict[str, list[dict[str, Any]]]:
    from credo.scoring.registry import load_model

    model = load_model(store, model_id)
    return {
        spec.name: [r.model_dump(mode="json") for r in model.rows_of(spec.name)]
        for spec in model.table.features
    }


BUNDLE = "credo-regulator-bundle"


def _iso(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def canonical(content: dict[str, Any]) -> bytes:
    """The bytes a bundle's seal is taken over: sorted keys, no spaces, UTF-8, so anyone can
    recompute the seal from the JSON they received."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def regulator_bundle(
    store: Store, person_id: str, *, actor: str = "operator", now: dt.datetime | None = None
) -> dict[str, Any]:
    """What is withheld from the person as a trade secret, for a supervisory authority or a
    court to weigh (CJEU C-203/22): the whole points table and scaling of the model that made
    the person's latest score, and that score taken apart. **Sealed**: its SHA-256 over the
    canonical bytes is written to the audit chain, so what was handed over, and when, can be
    proven later and any change to it is seen."""
    from credo.scoring import explain_score
    from credo.scoring.registry import load_model

    explanation = explain_score(store, person_id)
    model = load_model(store, explanation.model_id)
    at = now_or(now)
    content = {
        "format": BUNDLE,
        "version": VERSION,
        "generated_at": at,
        "person": person_id,
        "score": explanation.to_dict(),
        "model": model.to_dict(),
    }
    content = json.loads(json.dumps(content, default=_iso))  # plain JSON, as it is handed over
    digest = hashlib.sha256(canonical(content)).hexdigest()
    entry = AuditEntry(
        actor, "regulator.bundle", f"person:{person_id}", "trade-secret review",
        {"sha256": digest, "model_id": explanation.model_id},
    )  # fmt: skip
    store.audit(entry)
    return {"content": content, "seal": {"sha256": digest, "audit_action": "regulator.bundle"}}
