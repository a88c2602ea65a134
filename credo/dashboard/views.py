"""What the pages show, assembled from the same library functions the API serves.

The person's page is :func:`credo.rights.person_file`, :func:`credo.rights.feed` and
:func:`credo.scoring.explain_score`; the console is the dispute, review, quarantine and audit
functions. Nothing here computes a score or a reason: it only arranges them for a page, so the
page and ``GET /v1/me/file`` cannot disagree. Each page view is one audited read.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

from credo.access import list_partners
from credo.dashboard.charts import BandSpan
from credo.dashboard.formats import bin_text, day, label, money, number, points
from credo.errors import NotFoundError
from credo.features.sql import AMENDABLE
from credo.identity.review import review_queue
from credo.policy.rules import active_rules
from credo.policy.schema import ScoringPolicy, load_policy
from credo.purposes import PURPOSE_LABELS
from credo.rights.audited import audited_read
from credo.rights.disputes import list_disputes
from credo.rights.file import feed, person_file
from credo.rights.requests import tracker
from credo.settings import Settings
from credo.store.audit import verify
from credo.store.db import Store, utcnow
from credo.store.rows import rows
from credo.store.schema import EVENT_TYPES

__all__ = [
    "DIMENSION_LABELS",
    "EVENT_LABELS",
    "console_view",
    "event_summary",
    "item_name",
    "person_view",
]

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


def event_summary(e: dict[str, Any], partners: Mapping[str, str] | None = None) -> str:
    """One line a person understands for an event of any type: codes in words
    (:mod:`credo.dashboard.formats`), partners by name where ``partners`` names them."""
    kind = e.get("event_type")
    has = e.get
    names = partners or {}

    def g(key: str) -> str:
        value = e.get(key)
        return "?" if value is None else label(value, key)

    def partner(key: str = "partner") -> str:
        value = e.get(key)
        return "?" if value is None else names.get(str(value), str(value))

    if kind == "payment":
        return f"{money(has('amount'))} paid for {g('merchant_category')}" + (
            f" ({g('channel')})" if has("channel") else ""
        )
    if kind == "bill":
        paid = f"paid {day(has('paid_date'))}" if has("paid_date") else "not paid"
        due = day(has("due_date")) or "?"
        return f"{g('bill_kind')} bill of {money(has('amount'))}, due {due}, {paid}"
    if kind == "loan":
        text = f"{g('loan_event')} on account {has('account_id') or '?'}"
        if has("amount") is not None:
            text += f", {money(has('amount'))}"
        if has("days_past_due"):
            text += f", {number(has('days_past_due'))} days past due"
        return text
    if kind == "rental":
        returned = has("returned_on_time")
        on_time = (
            "return not recorded"
            if returned is None
            else ("returned on time" if returned else "returned late")
        )
        text = f"{g('item')} from {partner()}, {on_time}"
        if has("damage"):
            text += f", damage (unpaid {money(has('unpaid_amount'))})"
        return text
    if kind == "court_judgment":
        text = f"{has('court') or '?'}, case {has('case_number') or '?'}: {money(has('amount'))}"
        text += f", {g('judgment_status')}"
        if has("satisfied_on"):
            text += f", satisfied {day(has('satisfied_on'))}"
        return text
    if kind == "attribute":
        name = has("attribute")
        value = has("attribute_value")
        words = value if name in ("employer", "address", "vehicle") else label(value, str(name))
        if name == "tenure" and value is not None:
            words = number(value)
        return f"{g('attribute')}: {words if value is not None else '?'}"
    if kind == "connection":
        return f"contact {g('connection_action')}: {has('counterpart_name') or 'someone'}"
    if kind == "conduct":
        media = ", reported by the media" if has("reported_by_media") else ""
        where = f"{has('authority') or '?'}, ref. {has('reference') or '?'}"
        return f"{g('conduct_kind')} ({where}){media}"
    if kind == "consent":
        action = g("consent_action")
        if not has("partner"):
            return action
        purpose = f" for {label(has('purpose'), 'purpose')}" if has("purpose") else ""
        return f"{action} {partner()}{purpose}"
    if kind == "correction":
        return (
            f"{g('correction_action')} of {label(has('target_source'), 'source')} record"
            f" {has('target_record_id') or '?'}: {has('reason') or '?'}"
        )
    return label(kind, "event_type")


def item_name(e: dict[str, Any] | None, partners: Mapping[str, str] | None = None) -> str:
    """An event as a person names it: its kind and what it says (the court, the case, the
    amount), for a dispute in a queue or a list."""
    if e is None:
        return "an item no longer held"
    kind = EVENT_LABELS.get(str(e.get("event_type")), label(e.get("event_type"), "event_type"))
    return f"{kind} of {day(e.get('occurred_at'))}: {event_summary(e, partners)}"


def _events_by_id(store: Store, event_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not event_ids:
        return {}
    found = rows(store.con, "SELECT * FROM events WHERE list_contains(?, event_id)", [event_ids])
    return {int(e["event_id"]): e for e in found}


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


def _sentence(description: str) -> str:
    return description[:1].upper() + description[1:]


def _reason(
    r: dict[str, Any], by_feature: dict[str, dict[str, Any]], events: list[dict[str, Any]]
) -> dict[str, Any]:
    """A reason in the feature's unit, with what it opens to: the feature's bins and events,
    or, for the court's list and a thin file, the events and the rule behind it."""
    from credo.scoring.reasons import COURT_LIST, NOT_ENOUGH_HISTORY

    f = by_feature.get(r["code"])
    out = {**r, "feature": f, "words": r["text"]}
    if f is not None and "best_bin" in r:
        rows_ = f["rows"]
        lost = points(r["points_lost"])
        out["words"] = (
            f"{_sentence(f['description'])} is {bin_text(rows_[r['bin']], f['feature'])}:"
            f" {lost} point{'' if lost == '1' else 's'} fewer than the best"
            f" ({bin_text(rows_[r['best_bin']], f['feature'])})"
        )
    elif r["code"] == COURT_LIST:
        out["listings"] = [
            e for e in events
            if e["event_type"] == "court_judgment" and e.get("judgment_status") == "listed"
        ]  # fmt: skip
    elif r["code"] == NOT_ENOUGH_HISTORY:
        counted = ("payment", "bill", "loan", "rental")
        out["history"] = [e for e in events if e["event_type"] in counted]
    return out


def _improvement(i: dict[str, Any], by_feature: dict[str, dict[str, Any]]) -> dict[str, Any]:
    f = by_feature.get(i["feature"])
    if f is None or "to_bin" not in i:
        return {**i, "words": i["text"]}
    rows_, name = f["rows"], f["feature"]
    gain = points(i["gain"])
    start, to = bin_text(rows_[i["from_bin"]], name), bin_text(rows_[i["to_bin"]], name)
    add = f"would add {gain} point{'' if gain == '1' else 's'}"
    if start == "not known":  # nothing held yet: the first such event is the step
        target = "" if to == "any value" else f" ({to})"
        return {**i, "words": f"{_sentence(f['description'])}: once known{target}, it {add}"}
    return {**i, "words": f"{_sentence(f['description'])}: from {start} to {to} {add}"}


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
    partners = dict(
        store.con.execute("SELECT partner_id, name FROM partners ORDER BY 1").fetchall()
    )
    for e in events:
        e["summary"] = event_summary(e, partners)
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
        "restricted": held["restricted"],
        "requests": [r.to_dict() for r in tracker(store, person_id)],
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
        "partners": list(partners.items()),
        "partner_names": partners,
        "score": None,
        "regimes": [s.to_dict() for s in regime_standings(store, person_id)],
    }
    now = utcnow()
    by_id = {int(e["event_id"]): e for e in events}
    for d in view["disputes"]:
        d["overdue"] = d["status"] == "open" and d["due_at"] < now
        d["item"] = item_name(by_id.get(int(d["event_id"])), partners)
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
            "reasons": [_reason(r, by_feature, events) for r in latest.reasons],
            "improvements": [_improvement(i, by_feature) for i in latest.improvements],
            "thin": any(r["code"] == NOT_ENOUGH_HISTORY for r in latest.reasons),
            "capped": any(r["code"] == COURT_LIST for r in latest.reasons),
            "features": features,
            "history": _history(held["scores"]),
            "scale": latest.scale,
        }
    audited_read(store, f"person:{person_id}", "read.page", f"person:{person_id}", "own file",
                 {"events": len(shown)})  # fmt: skip
    return view


def _persons(fit: dict[str, Any]) -> str:
    """A stacked sample's distinct persons: its rows repeat them, one row per date."""
    if "persons" not in fit:
        return ""
    return f"; {fit['bad_persons']:,} bad of {fit['persons']:,} persons"


def _fits(store: Store, model_ids: list[str]) -> dict[str, str]:
    """Per model, its fit in time and out of time in one line (docs/decisions/0536)."""
    from credo.scoring import load_model
    from credo.scoring.registry import read_fit

    lines: dict[str, str] = {}
    for model_id in model_ids:
        fit = read_fit(store, load_model(store, model_id)) or {}
        parts = [
            f"{label} AUC {fit[key]['auc']:.3f}, KS {fit[key]['ks']:.3f},"
            f" Gini {fit[key]['gini']:.3f}, bad rate {fit[key]['bad_rate']:.2%} vs predicted"
            f" {fit[key]['mean_predicted_pd']:.2%}"
            f" ({fit[key]['bads']:,} bad of {fit[key]['rows']:,}{_persons(fit[key])})"
            for key, label in (("in_time", "in time"), ("out_of_time", "out of time"))
            if "auc" in fit.get(key, {})
        ]
        if "outcome_overlap_months" in fit:  # docs/decisions/0539
            overlap = fit["outcome_overlap_months"]
            parts.append(
                "holdout outcomes after all training outcomes"
                if overlap == 0
                else f"holdout outcomes overlap training's by {overlap} months"
            )
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
    partners = list_partners(store)
    names = {p["partner_id"]: p["name"] for p in partners}
    items = _events_by_id(store, [int(d.event_id) for d in [*open_disputes, *recent]])
    view = {
        "latest_run": runs[0] if runs else None,
        "models": models,
        "fits": _fits(store, [m[0] for m in models if m[0]]),
        "bands": bands,
        "distribution": [(f"{d:%Y-%m}", c) for d, c in sorted(counts.items())],
        "disputes": [
            {
                **d.to_dict(),
                "overdue": d.due_at < now,
                "item": item_name(items.get(d.event_id), names),
            }
            for d in open_disputes
        ],
        "resolved": [
            {**d.to_dict(), "item": item_name(items.get(d.event_id), names)}
            for d in reversed(recent)
        ],
        "reviews": review_queue(store, actor="admin", limit=50),
        "reviews_pending": int(
            store.scalar("SELECT count(*) FROM identity_reviews WHERE status = 'pending'")
        ),
        "requests": [r.to_dict() for r in tracker(store, open_only=True, now=now)],
        "quarantine": quarantine,
        "quarantined_rows": int(
            store.scalar("SELECT count(DISTINCT (load_id, row_no)) FROM quarantine")
        ),
        "chain": chain,
        "chain_from": chain_after[0] + 1 if chain_after else 1,
        "now": now,
        "amendable": sorted(AMENDABLE),
        "partners": partners,
    }
    audited_read(store, "admin", "read.console", "console", "operations",
                 {"open_disputes": len(open_disputes)})  # fmt: skip
    return view


EVENT_LABELS_ZH: dict[str, str] = {
    "payment": "支付记录", "bill": "账单及缴费情况（水电、房租、电话、罚款、税款）",
    "loan": "贷款账户及还款", "rental": "租赁及归还情况",
    "court_judgment": "法院判决及失信被执行人名单",
    "attribute": "身份属性（身份核验、学历、雇主、地址、车辆、在职时长）",
    "connection": "联系人", "conduct": "主管机关出具的行为记录", "consent": "您作出的同意",
    "correction": "对既有记录的更正",
}  # fmt: skip
"""Every event type in Chinese, for the notice in Chinese (R-PIPL-2: in clear language)."""

PURPOSE_LABELS_ZH: dict[str, str] = {
    "credit_transaction": "您申请的贷款或信贷", "account_review": "对您所持账户的审查",
    "employment": "您申请的工作", "insurance_underwriting": "您申请的保险",
    "tenancy": "您租住的住房", "government_benefit": "您申请的政府福利",
    "consumer_instruction": "您本人的书面指示", "court_order": "法院命令",
    "rental": "免押金租赁（单车、汽车、酒店）", "travel": "出行预订（航班、火车、快速通道）",
}  # fmt: skip
"""Every purpose in Chinese (a test keeps the keys equal to :data:`PURPOSE_LABELS`)."""


def privacy_view(settings: Settings, contact: str, lang: str = "en") -> dict[str, Any]:
    """What the privacy notice says, from the active rules profile (R-PIPL-2): the figures it
    promises are the ones the code keeps, in English or Chinese (``lang``: ``en``, ``zh``)."""
    profile = active_rules(settings)
    events, purposes = (
        (EVENT_LABELS_ZH, PURPOSE_LABELS_ZH) if lang == "zh" else (EVENT_LABELS, PURPOSE_LABELS)
    )
    return {
        "lang": lang,
        "contact": contact,
        "profile": profile.name,
        "data_types": [events[t] for t in EVENT_TYPES],
        "purposes": [purposes.get(p, p) for p in profile.reports.purposes],
        "retention": profile.retention,
        "disputes": profile.disputes,
        "notices": profile.notices,
    }
