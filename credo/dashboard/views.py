"""What the pages show, assembled from the same library functions the API serves.

The person's page is :func:`credo.rights.person_file`, :func:`credo.rights.feed` and
:func:`credo.scoring.explain_score`; the console is the dispute, review, quarantine and audit
functions. Nothing here computes a score or a reason: it only arranges them for a page, so the
page and ``GET /v1/me/file`` cannot disagree. Each page view is one audited read.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from credo.access import list_partners
from credo.dashboard.charts import BandSpan
from credo.errors import NotFoundError
from credo.features.sql import AMENDABLE
from credo.identity.review import review_queue
from credo.policy.schema import ScoringPolicy, load_policy
from credo.rights.audited import audited_read
from credo.rights.disputes import list_disputes
from credo.rights.file import feed, person_file
from credo.store.audit import verify
from credo.store.db import Store, utcnow
from credo.store.schema import EVENT_TYPES

__all__ = ["DIMENSION_LABELS", "EVENT_LABELS", "console_view", "event_summary", "person_view"]

DIMENSION_LABELS = {
    "credit_history": "Credit history",
    "behaviour": "Behaviour & preferences",
    "fulfilment_capacity": "Fulfilment capacity",
    "identity": "Identity characteristics",
    "connections": "Connections",
}
_LABELLED = {"attribute": "Identity attribute", "conduct": "Conduct record"}
EVENT_LABELS = {t: _LABELLED.get(t, t.replace("_", " ").capitalize()) for t in EVENT_TYPES}
"""Every event type in the person's words: its name, unless the name alone would mislead."""


_STATUS = {
    "open": "disputed",
    "corrected": "corrected after your dispute",
    "verified": "verified after your dispute",
    "expired": "not verified in time: no longer counts",
}


def _money(value: Any) -> str:
    return f"¥{float(value):,.2f}" if value is not None else "¥?"


def _yes(flag: Any) -> str:
    return "yes" if flag else "no"


def event_summary(e: dict[str, Any]) -> str:
    """One line a person understands for an event of any type."""
    kind = e.get("event_type")
    has = e.get

    def g(key: str) -> Any:
        value = e.get(key)
        return "?" if value is None else value

    if kind == "payment":
        return f"{_money(has('amount'))} paid at {g('merchant_category')}" + (
            f" ({g('channel')})" if has("channel") else ""
        )
    if kind == "bill":
        paid = f"paid {g('paid_date')}" if has("paid_date") else "not paid"
        return f"{g('bill_kind')} bill of {_money(has('amount'))}, due {g('due_date')}, {paid}"
    if kind == "loan":
        text = f"loan {g('loan_event')} on account {g('account_id')}"
        if has("amount") is not None:
            text += f", {_money(has('amount'))}"
        if has("days_past_due"):
            text += f", {g('days_past_due')} days past due"
        return text
    if kind == "rental":
        text = f"{g('item')} from {g('partner')}, returned on time: {_yes(has('returned_on_time'))}"
        if has("damage"):
            text += f", damage (unpaid {_money(has('unpaid_amount'))})"
        return text
    if kind == "court_judgment":
        text = f"{g('court')}, case {g('case_number')}: {_money(has('amount'))}"
        text += f", {g('judgment_status')}"
        if has("satisfied_on"):
            text += f", satisfied {g('satisfied_on')}"
        return text
    if kind == "attribute":
        return f"{g('attribute')}: {g('attribute_value')}"
    if kind == "connection":
        return f"contact {g('connection_action')}: {has('counterpart_name') or 'someone'}"
    if kind == "conduct":
        media = ", reported by the media" if has("reported_by_media") else ""
        return f"{g('conduct_kind')} ({g('authority')}, ref. {g('reference')}){media}"
    if kind == "consent":
        parts = [g("consent_action"), has("partner"), has("purpose")]
        return " ".join(str(p) for p in parts if p)
    if kind == "correction":
        return (
            f"{g('correction_action')} of {g('target_source')} record {g('target_record_id')}:"
            f" {g('reason')}"
        )
    return str(kind)


def _bands(policy_name: str) -> tuple[list[BandSpan], int, int]:
    policy = load_policy(policy_name).policy
    if not isinstance(policy, ScoringPolicy):
        return [], 350, 950
    spans = [BandSpan(b.name, b.min, b.max) for b in policy.bands]
    return spans, policy.min_score, policy.max_score


def _name(events: list[dict[str, Any]]) -> str | None:
    names = Counter(e["name"] for e in events if e.get("name"))
    return names.most_common(1)[0][0] if names else None


def _history(scores: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """The last score of each as-of date (an off-cycle re-score replaces that day's)."""
    by_day: dict[dt.date, float] = {}
    for s in scores:
        by_day[s["as_of"]] = float(s["score"])
    return [(f"{d:%Y-%m}" if d.day > 27 else f"{d:%Y-%m-%d}", v) for d, v in sorted(by_day.items())]


def person_view(
    store: Store, person_id: str, *, event_type: str | None = None, text: str | None = None
) -> dict[str, Any]:
    """Everything the person's page shows; the read is audited as the person's own."""
    from credo.scoring import explain_score, load_model
    from credo.scoring.reasons import COURT_LIST, NOT_ENOUGH_HISTORY
    from credo.scoring.standing import regime_standings

    try:  # made once: the file's points table and the page's reasons both come from it
        latest = explain_score(store, person_id)
    except NotFoundError:
        latest = None
    held = person_file(store, person_id, explanation=latest)
    alerts = feed(store, person_id)
    events = held["events"]
    for e in events:
        e["summary"] = event_summary(e)
        e["label"] = EVENT_LABELS.get(e["event_type"], e["event_type"])
        e["status"] = _STATUS.get(e["dispute"] or "", "corrected" if e["corrected"] else "")
    kinds = sorted({e["event_type"] for e in events})
    shown = [
        e
        for e in events
        if (not event_type or e["event_type"] == event_type)
        and (not text or text.lower() in (e["summary"] + " " + e["source"]).lower())
    ]
    view: dict[str, Any] = {
        "person": person_id,
        "name": _name(events),
        "frozen": held["frozen"],
        "events": list(reversed(shown)),
        "event_count": len(events),
        "event_kinds": [(k, EVENT_LABELS.get(k, k)) for k in kinds],
        "event_type": event_type or "",
        "text": text or "",
        "inquiries": list(reversed(held["inquiries"])),
        "consents": held["consents"],
        "active_grants": [c for c in held["consents"] if c["active"] and c["action"] == "grant"],
        "enrolled": any(c["active"] and c["action"] == "enrol" for c in held["consents"]),
        "disputes": list(reversed(held["disputes"])),
        "alerts": alerts,
        "partners": store.con.execute(
            "SELECT partner_id, name FROM partners ORDER BY 1"
        ).fetchall(),
        "score": None,
        "regimes": [s.to_dict() for s in regime_standings(store, person_id)],
    }
    now = utcnow()
    for d in view["disputes"]:
        d["overdue"] = d["status"] == "open" and d["due_at"] < now
    if held["scores"] and latest is not None:
        bands, low, high = _bands(latest.policy.split(" ")[0])
        model = load_model(store, latest.model_id)
        last = held["scores"][-1]
        features = []
        for f in latest.features:
            rows = [r.model_dump(mode="json") for r in model.rows_of(f["feature"])]
            features.append({**f, "label": DIMENSION_LABELS.get(f["dimension"], f["dimension"]),
                             "rows": rows})  # fmt: skip
        by_feature = {f["feature"]: f for f in features}
        view["score"] = {
            "value": latest.score,
            "band": latest.band,
            "as_of": latest.as_of,
            "trend": last["trend"],
            "previous": last["previous_score"],
            "model": latest.model_id,
            "policy": latest.policy,
            "run": latest.run_id,
            "low": low,
            "high": high,
            "bands": bands,
            "dimensions": [
                (d, DIMENSION_LABELS.get(d, d), v["points"], v["share"])
                for d, v in latest.sub_scores.items()
            ],
            "radar": [
                (DIMENSION_LABELS.get(d, d), v["share"]) for d, v in latest.sub_scores.items()
            ],
            "reasons": [{**r, "feature": by_feature.get(r["code"])} for r in latest.reasons],
            "improvements": latest.improvements,
            "thin": any(r["code"] == NOT_ENOUGH_HISTORY for r in latest.reasons),
            "capped": any(r["code"] == COURT_LIST for r in latest.reasons),
            "features": features,
            "history": _history(held["scores"]),
            "scale": latest.scale,
        }
    audited_read(store, f"person:{person_id}", "read.page", f"person:{person_id}", "own file",
                 {"events": len(shown)})  # fmt: skip
    return view


def _fits(store: Store, model_ids: list[str]) -> dict[str, str]:
    """Per model, its fit in time and out of time in one line (docs/decisions/0536)."""
    from credo.scoring import load_model
    from credo.scoring.registry import read_fit

    lines: dict[str, str] = {}
    for model_id in model_ids:
        fit = read_fit(store, load_model(store, model_id)) or {}
        parts = [
            f"{label} AUC {fit[key]['auc']:.3f}, KS {fit[key]['ks']:.3f}"
            f" ({fit[key]['bads']:,} bad of {fit[key]['rows']:,})"
            for key, label in (("in_time", "in time"), ("out_of_time", "out of time"))
            if "auc" in fit.get(key, {})
        ]
        lines[model_id] = "; ".join(parts) or "no fit summary"
    return lines


def console_view(store: Store, *, chain_after: tuple[int, str] | None = None) -> dict[str, Any]:
    """The operator's console; the read is audited (it shows personal data in queues).

    ``chain_after``: an entry the audit chain was found intact up to, so that only what was
    appended since is walked (a whole walk of millions of entries on every page load would
    not do); ``None`` walks it all."""
    con = store.con
    runs = con.execute(
        "SELECT run_id, kind, as_of, model_id, policy_name, policy_version, persons, created_at"
        " FROM score_runs ORDER BY seq DESC LIMIT 1"
    ).fetchall()
    latest_monthly = con.execute(
        "SELECT policy_name FROM score_runs WHERE kind = 'monthly' ORDER BY seq DESC LIMIT 1"
    ).fetchall()
    bands, _, _ = _bands(latest_monthly[0][0]) if latest_monthly else ([], 350, 950)
    counts: dict[dt.date, dict[str, int]] = {}
    for as_of, band, n in con.execute(
        "SELECT r.as_of, s.band, count(*) FROM score_snapshots s JOIN score_runs r"
        " ON r.run_id = s.run_id WHERE r.kind = 'monthly' GROUP BY ALL ORDER BY 1"
    ).fetchall():
        counts.setdefault(as_of, {})[band] = int(n)
    models = con.execute(
        "SELECT model_id, policy_name, policy_version, count(*) AS runs, min(as_of), max(as_of)"
        " FROM score_runs GROUP BY ALL ORDER BY max(seq) DESC"
    ).fetchall()
    now = utcnow()
    open_disputes = list_disputes(store, status="open")
    recent = [d for d in list_disputes(store) if d.status != "open"][-10:]
    quarantine = con.execute(
        "SELECT source, file_name, field, reason, count(*) AS n, min(row_no),"
        " any_value(raw_value) FROM quarantine GROUP BY ALL ORDER BY n DESC, source LIMIT 50"
    ).fetchall()
    chain = verify(con, after=chain_after)
    view = {
        "latest_run": runs[0] if runs else None,
        "models": models,
        "fits": _fits(store, [m[0] for m in models if m[0]]),
        "bands": bands,
        "distribution": [(f"{d:%Y-%m}", c) for d, c in sorted(counts.items())],
        "disputes": [{**d.to_dict(), "overdue": d.due_at < now} for d in open_disputes],
        "resolved": [d.to_dict() for d in reversed(recent)],
        "reviews": review_queue(store, actor="admin", limit=50),
        "reviews_pending": int(
            store.scalar("SELECT count(*) FROM identity_reviews WHERE status = 'pending'")
        ),
        "quarantine": quarantine,
        "quarantined_rows": int(
            store.scalar("SELECT count(DISTINCT (load_id, row_no)) FROM quarantine")
        ),
        "chain": chain,
        "chain_from": chain_after[0] + 1 if chain_after else 1,
        "now": now,
        "amendable": sorted(AMENDABLE),
        "partners": list_partners(store),
    }
    audited_read(store, "admin", "read.console", "console", "operations",
                 {"open_disputes": len(open_disputes)})  # fmt: skip
    return view
