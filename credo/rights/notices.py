"""Adverse-action notices (RULES R-FCRA-13, R-FCRA-14, R-ECOA-3, R-ECOA-4).

A decision is adverse when the product is declined or offered on worse terms than its best
(any rule but the first). Its reasons then name the factors that cost the person most points
(the score's own reason codes, in the person's words, at most the profile's
``notices.max_key_factors``), after the product's rule, so that no adverse decision rests on a
threshold alone. The person sees a notice for each in their feed and through the API: the
partner that decided (Credo did not) with its address and the body that supervises it, the
bureau's name, address and phone, the product, the key factors, the score with its range and
date, and their rights.
"""

from __future__ import annotations

import json
from typing import Any

from credo.features import feature
from credo.policy.rules import RulesProfile, active_rules, load_rules
from credo.rights.fraud_alerts import ALERT_CODES
from credo.settings import Settings
from credo.store.db import Store
from credo.store.rows import rows

__all__ = [
    "NOT_ON_FILE",
    "NO_FACTOR",
    "adverse_notices",
    "bureau_contact",
    "factor_reasons",
    "notice_alerts",
]

COURT_LIST = "court_list"
NOT_ENOUGH_HISTORY = "not_enough_history"
NO_FACTOR = "no_single_factor"
"""The factor named when no feature lost points: the score as a whole fell short."""

_FIXED_TEXTS = {
    COURT_LIST: "you are on the court's list of judgment defaulters",
    NOT_ENOUGH_HISTORY: "not enough history: too few payments, bills, loans or rentals yet",
    NO_FACTOR: "no single factor lost points; the score as a whole is below the product's level",
}


def _factor_text(code: str) -> str:
    try:
        return _FIXED_TEXTS.get(code) or feature(code).description
    except KeyError:  # a feature of a model no longer in the catalogue
        return code


def factor_reasons(codes: tuple[str, ...], limit: int) -> list[dict[str, str]]:
    """Decision reasons naming the score's factors, most points lost first, at most ``limit``."""
    chosen = codes[:limit] or (NO_FACTOR,)
    return [{"code": code, "text": _factor_text(code)} for code in chosen]


NOT_ON_FILE = "not on file"
"""What a notice says where the operator or the partner has not given a contact detail."""


def bureau_contact(settings: Settings) -> dict[str, str]:
    """The bureau as every notice names it (R-FCRA-13: name, address, phone)."""
    return {
        "name": settings.bureau_name,
        "address": settings.bureau_address or NOT_ON_FILE,
        "phone": settings.bureau_phone or NOT_ON_FILE,
    }


def _rights(rules: RulesProfile, partner: str, bureau: dict[str, str], agency: str) -> list[str]:
    return [
        f"{partner} made this decision; {bureau['name']} supplied the score and did not decide"
        f" (write to {bureau['name']} at {bureau['address']}, or call {bureau['phone']})",
        f"you may see your full file free of charge within"
        f" {rules.notices.free_report_after_notice_days} days of this notice",
        f"you may dispute any item in your file; it is checked within {rules.disputes.days} days",
        "you may ask the partner for the specific reasons of its decision",
        # R-ECOA-3: the anti-discrimination statement, with the bases the profile protects.
        f"the law forbids {partner} to treat you less well because of "
        + ", ".join(b.replace("_", " ") for b in rules.protected_bases),
        f"the body that supervises {partner}'s compliance with this law: {agency}",
    ]


def adverse_notices(store: Store, person_id: str) -> list[dict[str, Any]]:
    """The person's adverse-action notices, newest first."""
    notices = []
    bureau = bureau_contact(store.settings)
    for d in rows(
        store.con,
        "SELECT d.decision_id, d.partner_id, coalesce(p.name, d.partner_id) AS partner_name,"
        " p.address AS partner_address, p.phone AS partner_phone, p.agency,"
        " d.product, d.outcome, d.terms, d.reasons, d.score, d.band, d.decided_at, j.jurisdiction,"
        " r.as_of AS scored_as_of, r.policy_name"
        " FROM decisions d LEFT JOIN partners p ON p.partner_id = d.partner_id"
        " LEFT JOIN partner_jurisdictions j ON j.partner_id = d.partner_id"
        " LEFT JOIN score_runs r ON r.run_id = d.run_id"
        " WHERE d.person_id = ? ORDER BY d.decided_at DESC, d.decision_id",
        [person_id],
    ):
        # An alert's reason is for the partner, not a factor of the decision.
        reasons = [r for r in json.loads(d["reasons"]) if r["code"] not in ALERT_CODES]
        if d["outcome"] == "verification_required":
            continue  # not an action yet: the decision made once verified has its own notice
        if d["outcome"] != "declined" and len(reasons) < 2:
            continue
        rule, factors = reasons[0], reasons[1:] or reasons
        # The partner's jurisdiction sets the figures its notices state (decision 0648).
        rules = load_rules(d["jurisdiction"]) if d["jurisdiction"] else active_rules(store.settings)
        notices.append(
            {
                "notice_id": f"aan_{d['decision_id']}",
                "decision_id": d["decision_id"],
                "partner": d["partner_id"],
                "partner_name": d["partner_name"],
                "product": d["product"],
                "outcome": d["outcome"],
                "terms": json.loads(d["terms"]),
                "rule": rule["text"],
                "key_factors": factors[: rules.notices.max_key_factors],
                "score": d["score"],
                "score_range": _score_range(d["policy_name"]),
                "scored_as_of": d["scored_as_of"],
                "decided_at": d["decided_at"],
                # R-ECOA-3: the creditor's name and address, and who supervises it.
                "creditor": {
                    "name": d["partner_name"],
                    "address": d["partner_address"] or NOT_ON_FILE,
                    "phone": d["partner_phone"] or NOT_ON_FILE,
                },
                "agency": d["agency"] or NOT_ON_FILE,
                "bureau": bureau,
                "rights": _rights(rules, d["partner_name"], bureau, d["agency"] or NOT_ON_FILE),
            }
        )
    return notices


def _score_range(policy_name: str | None) -> tuple[int, int] | None:
    if policy_name is None:
        return None
    from credo.policy.schema import ScoringPolicy, load_policy

    policy = load_policy(policy_name).policy
    return (policy.min_score, policy.max_score) if isinstance(policy, ScoringPolicy) else None


def notice_alerts(store: Store, person_id: str) -> list[dict[str, Any]]:
    """The notices as feed alerts."""
    return [
        {
            "kind": "adverse_action",
            "at": n["decided_at"],
            "text": f"{n['partner_name']} {n['outcome']} {n['product']}: "
            + "; ".join(f["text"] for f in n["key_factors"]),
            "ref": n["notice_id"],
        }
        for n in adverse_notices(store, person_id)
    ]
