"""The console's fairness page (issue 18 items 4 and 5): the audit of a month's scores at every
product cut, by protected attribute and group, and every override of the fairness gate (who,
when, why). Opening the page reads the protected attributes, so each view is an audited read
by the operator, as any other audit is."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from credo.dashboard.backend import backend
from credo.dashboard.pages import console_page_of, operator_or_login
from credo.errors import CredoError, InputError
from credo.fairness.bureau import audit_month
from credo.policy.products import load_products
from credo.store.db import Store
from credo.store.rows import rows

__all__ = ["fairness_view", "router"]

router = APIRouter(include_in_schema=False)


def _overrides(store: Store) -> list[dict[str, Any]]:
    found = rows(
        store.con,
        "SELECT seq, logged_at, actor, target, purpose, details FROM audit_log"
        " WHERE action = 'fairness_override' ORDER BY seq DESC",
    )
    for r in found:
        details = json.loads(r.pop("details") or "{}")
        flags = details.get("flags", [])
        r["flags"] = len(flags)
        r["lowest"] = min(flags, key=lambda f: float(f["air"]), default=None)
        r["where"] = " · ".join(str(details[k]) for k in ("as_of", "policy") if k in details)
    return found


def fairness_view(store: Store, as_of: str | None) -> dict[str, Any]:
    """The months that can be audited, the audit of one (the latest by default) and the
    overrides; an audit that cannot be made says why instead."""
    months = [
        r["as_of"]
        for r in rows(
            store.con,
            "SELECT DISTINCT as_of FROM score_runs WHERE kind = 'monthly'"
            " AND model_id IS NOT NULL ORDER BY as_of DESC",
        )
    ]
    view: dict[str, Any] = {"months": months, "overrides": _overrides(store), "report": None}
    if not months:
        view["problem"] = "No monthly scoring run yet."
        return view
    try:
        day = dt.date.fromisoformat(as_of) if as_of else months[0]
    except ValueError:
        raise InputError(f"as_of {as_of!r} is not a date (YYYY-MM-DD)") from None
    view["as_of"] = day
    try:
        report = audit_month(store, day, load_products("products"), actor="operator")
    except CredoError as exc:
        view["problem"] = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return view
    view["report"] = report.to_dict()
    return view


@router.get("/console/fairness")
def console_fairness(request: Request, as_of: str | None = None) -> Response:
    if (refused := operator_or_login(request)) is not None:
        return refused
    svc = backend(request)
    try:
        view = svc.run(fairness_view, svc.store, as_of)
    except CredoError as exc:
        empty: dict[str, Any] = {
            "error": exc.message,
            "months": [],
            "overrides": [],
            "report": None,
        }
        return console_page_of(request, "console_fairness.html", empty, exc.http_status)
    return console_page_of(request, "console_fairness.html", view)
