"""How the pages write values for people: the one formatting layer, as Jinja filters.

The library hands the pages what it computes (``0.9629629629629629``, ``senior_secondary``,
``court_list``); a person reads "96%", "senior secondary school (高中)", "Court list". Every
template writes a value through one of these filters, so a unit or a word is chosen once
(docs/decisions/0633). A feature's unit is named here for every feature of the catalogue (a
test keeps them equal); a code this module does not know is still written as words
(underscores become spaces), never as a bare code or a float with sixteen digits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Literal

from credo.purposes import PURPOSE_LABELS

__all__ = [
    "FILTERS",
    "LABELS",
    "UNITS",
    "bin_text",
    "day",
    "feature_value",
    "label",
    "money",
    "number",
    "percent",
    "points",
]

Unit = Literal["share", "count", "days", "months", "money", "flag", "score", "category"]

UNITS: dict[str, Unit] = {
    "instalments_on_time_share_24m": "share",
    "worst_days_past_due_24m": "days",
    "months_since_oldest_account": "months",
    "loan_defaults": "count",
    "spending_regularity_24m": "share",
    "spending_categories_12m": "count",
    "luxury_spending_share_12m": "share",
    "rentals_returned_on_time_share_24m": "share",
    "bills_paid_on_time_share_24m": "share",
    "unpaid_bills": "count",
    "unpaid_partner_damages": "money",
    "monthly_spending_12m": "money",
    "identity_verified": "flag",
    "education": "category",
    "months_at_current_address": "months",
    "months_with_employer": "months",
    "contacts": "count",
    "contacts_mean_score_last_month": "score",
    "contacts_listed_share": "share",
    "contacts_added_12m": "count",
}
"""Every catalogue feature's unit: how its value and its bins' edges are written."""

# Words for the codes of each field; Chinese beside the English where the source is a Chinese
# registry or court (education, occupation, the court's list).
LABELS: dict[str, dict[str, str]] = {
    "education": {
        "junior_secondary": "junior secondary school (初中)",
        "senior_secondary": "senior secondary school (高中)",
        "vocational": "vocational college (大专)",
        "bachelor": "bachelor's degree (本科)",
        "master": "master's degree (硕士)",
        "doctorate": "doctorate (博士)",
    },
    "occupation": {
        "delivery_rider": "delivery rider (外卖骑手)",
        "factory_worker": "factory worker (工人)",
        "farmer": "farmer (农民)",
        "driver": "driver (司机)",
        "chef": "chef (厨师)",
        "sales": "sales (销售)",
        "teacher": "teacher (教师)",
        "nurse": "nurse (护士)",
        "accountant": "accountant (会计)",
        "civil_servant": "civil servant (公务员)",
        "self_employed": "self-employed (个体经营)",
        "software_engineer": "software engineer (软件工程师)",
        "doctor": "doctor (医生)",
        "lawyer": "lawyer (律师)",
        "manager": "manager (经理)",
    },
    "attribute": {
        "verified_identity": "identity verified with",
        "education": "education",
        "employer": "employer",
        "occupation": "occupation",
        "vehicle": "vehicle",
        "address": "address",
        "tenure": "months with the employer",
    },
    "verified_identity": {"id_card": "ID card (身份证)", "passport": "passport"},
    "merchant_category": {
        "grocery": "groceries",
        "online_shopping": "online shopping",
        "utilities": "utilities",
        "luxury": "luxury goods",
        "other": "other shops",
    },
    "channel": {
        "online": "online",
        "in_store": "in a shop",
        "qr": "by QR code",
        "transfer": "by bank transfer",
        "card": "by card",
    },
    "bill_kind": {"traffic_fine": "traffic fine"},
    "loan_event": {
        "opened": "loan opened",
        "instalment": "loan instalment",
        "default": "loan default",
        "closed": "loan closed",
        "bankruptcy": "bankruptcy",
    },
    "item": {"power_bank": "power bank"},
    "judgment_status": {
        "listed": "on the list of judgment defaulters (失信被执行人)",
        "satisfied": "judgment satisfied",
        "revoked": "listing revoked",
        "expired": "listing expired",
    },
    "connection_action": {"added": "added", "removed": "removed"},
    "conduct_kind": {
        "elder_care": "caring for an elder",
        "helping_poor": "helping people in need",
        "blood_donation": "blood donation",
        "drunk_driving": "drunk driving",
        "traffic_violation": "traffic violation",
    },
    "consent_action": {
        "enrol": "enrolled in Credo",
        "leave": "left Credo",
        "grant": "allowed",
        "revoke": "withdrew consent from",
        "grant_sensitive": "separately allowed sensitive data (loan accounts) to",
        "revoke_sensitive": "withdrew the separate consent for sensitive data from",
        "grant_assets": "consented in writing to the use of asset data (tax, vehicles)",
        "revoke_assets": "withdrew the consent to the use of asset data",
    },
    "correction_action": {"amend": "amendment", "retract": "retraction"},
    "source": {
        "alipay_payments": "Alipay payments",
        "bank_loans": "bank loans",
        "city_utilities": "city utilities and phone",
        "court_list": "court list of judgment defaulters (失信被执行人名单)",
        "court_feed": "court feed",
        "identity_registry": "identity registry",
        "social_graph": "contact list",
        "rental_partners": "rental partners",
        "consents": "your consents",
        "corrections": "corrections after a dispute",
    },
    "purpose": dict(PURPOSE_LABELS),
    "inquiry_kind": {"decision": "a decision", "report": "a report"},
    "dispute_status": {
        "open": "open",
        "corrected": "corrected",
        "verified": "verified (rejected)",
        "expired": "not verified in time: retracted",
    },
    "disclosed": {"decision": "decision", "score": "score", "band": "band"},
    "event_type": {"attribute": "identity attribute", "conduct": "conduct record"},
}


def label(code: Any, field: str) -> str:
    """``code`` of ``field`` in words: the field's own label, else the code with spaces."""
    if code is None or code == "":
        return "not known"
    text = str(code)
    return LABELS.get(field, {}).get(text) or text.replace("_", " ")


def number(value: Any, digits: int = 1) -> str:
    """A number rounded for reading: whole numbers without decimals, thousands separated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not known"
    x = float(value)
    text = f"{x:,.0f}" if x == round(x) else f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text  # no "-0" for a tiny negative


def percent(share: Any, digits: int = 1) -> str:
    """A share (0 to 1) as a percentage: ``0.9629…`` -> ``96.3%``; ``1.0`` -> ``100%``."""
    if share is None:
        return "not known"
    return f"{number(100 * float(share), digits)}%"


def money(value: Any) -> str:
    """An amount in yuan: ``¥1,502.66``; whole amounts without decimals in bins' edges."""
    if value is None:
        return "not known"
    return f"¥{float(value):,.2f}"


def points(value: Any, *, sign: bool = False) -> str:
    """Scorecard points, rounded to whole points (the scorecard's own unit)."""
    if value is None:
        return "—"
    n = round(float(value))
    return f"{n:+d}" if sign else f"{n:d}"


def day(value: Any) -> str:
    """A date (or a time's date) in ISO order, the order both English and Chinese read."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _plural(n: float, word: str) -> str:
    return f"{number(n)} {word}" + ("" if n == 1 else "s")


def _edge(x: float, unit: Unit) -> str:
    if unit == "share":
        return percent(x)
    if unit == "money":
        return f"¥{number(x, 2)}"
    return number(x)


def feature_value(value: Any, feature: str) -> str:
    """A feature's value with its unit: ``0.96`` share -> ``96%``, ``309.13`` -> ``¥309.13``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not known"
    unit = UNITS.get(feature)
    if isinstance(value, str):
        return label(value, feature)
    x = float(value)
    if unit == "share":
        return percent(x)
    if unit == "money":
        return money(x)
    if unit == "days":
        return _plural(x, "day")
    if unit == "months":
        return _plural(x, "month")
    if unit == "flag":
        return "yes" if x >= 0.5 else "no"
    if unit == "score":
        return points(x)
    return number(x, 2)


def _with_unit(x: float, unit: Unit) -> str:
    """A bin's edge with its unit: ``92.7%``, ``¥270``, ``10 months``."""
    if unit == "days":
        return _plural(x, "day")
    if unit == "months":
        return _plural(x, "month")
    return _edge(x, unit)


def bin_text(row: Mapping[str, Any], feature: str) -> str:
    """A points-table bin in the feature's unit: ``0.927 or more`` -> ``92.7% or more``."""
    kind = row.get("kind")
    unit: Unit = UNITS.get(feature, "count")
    if kind == "missing":
        return "not known"
    if kind == "other":
        return "another value"
    if kind == "categories":
        return ", ".join(label(c, feature) for c in row.get("categories") or [])
    lower: float | None = row.get("lower")
    upper: float | None = row.get("upper")
    if lower is None and upper is None:
        return "any value"
    if lower is None:
        assert upper is not None
        return "no" if unit == "flag" and upper <= 1 else f"under {_with_unit(upper, unit)}"
    if upper is None:
        return "yes" if unit == "flag" and lower > 0 else f"{_with_unit(lower, unit)} or more"
    return f"{_edge(lower, unit)} to under {_with_unit(upper, unit)}"


FILTERS = {
    "label": label,
    "number": number,
    "percent": percent,
    "money": money,
    "points": points,
    "day": day,
    "feature_value": feature_value,
    "bin_text": bin_text,
}
"""The filters every template uses (registered on the pages' Jinja environment)."""
