"""Refused partner requests and refused forms leave audit entries, repeats grouped (issue 17,
item 2; docs/decisions/0620), over a real server; the grouping as a property."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from support import page_token

from credo.api.refusals import Refusals
from credo.settings import Settings
from credo.store import audit
from credo.store.audit import AuditEntry
from credo.store.db import Store

from .conftest import ADMIN, Live, scored_persons

ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
REFUSALS = ("auth.failed", "access.refused", "form.refused")


def _entries_running(live: Live) -> list[dict[str, Any]]:
    svc = live.app.state.service
    return svc.run(_read, svc.store)  # type: ignore[no-any-return]


def _read(store: Store) -> list[dict[str, Any]]:
    rows = store.con.execute(
        "SELECT actor, action, target, details FROM audit_log WHERE action IN (?, ?, ?)"
        " ORDER BY seq",
        list(REFUSALS),
    ).fetchall()
    assert audit.verify(store.con).ok
    return [{"actor": a, "action": k, "target": t, **json.loads(d)} for a, k, t, d in rows]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _setup(c: httpx.Client, person: str) -> dict[str, str]:
    assert c.post("/admin/partners", json={"partner_id": "skyair", "name": "Sky Air"},
                  headers=ADMIN_H).status_code == 201  # fmt: skip
    keys = {}
    for scope in ("decisions", "reports"):
        r = c.post("/admin/partners/skyair/keys", json={"scopes": [scope]}, headers=ADMIN_H)
        keys[scope] = r.json()["key"]
    return keys


def test_refused_partner_requests_are_audited_once_a_minute_with_a_count(live: Live) -> None:
    person = scored_persons(live.db, 1)[0]
    with httpx.Client(base_url=live.base, timeout=30) as c:
        keys = _setup(c, person)
        key_id = keys["decisions"].split("_")[1]
        wrong = f"credo_{key_id}_not-the-secret"
        ask = {"person": person, "product": "car_rental", "consent": "no-such-consent"}
        for _ in range(3):
            assert c.post("/v1/decisions", json=ask, headers=_bearer(wrong)).status_code == 401
        for _ in range(4):
            r = c.post("/v1/decisions", json=ask, headers=_bearer(keys["decisions"]))
            assert r.status_code == 403, r.text
        r = c.post("/v1/decisions", json=ask, headers=_bearer(keys["reports"]))
        assert r.status_code == 403 and "scope" in r.json()["error"]["message"]
        code = c.post(f"/admin/persons/{person}/login-codes", headers=ADMIN_H).json()["code"]
        token = c.post("/v1/me/session", json={"person": person, "code": code}).json()["token"]
        grant = {"action": "grant", "partner": "skyair", "purpose": "employment"}
        assert c.post("/v1/me/consents", json=grant, headers=_bearer(token)).status_code == 201
        assert c.put("/v1/me/freeze", headers=_bearer(token)).status_code == 200
        report = f"/v1/reports/{person}?purpose=employment"
        assert c.get(report, headers=_bearer(keys["reports"])).status_code == 423

        seen = _entries_running(live)
        # The first of each kind is in the chain at once, before the answer; repeats wait.
        assert [(e["action"], e.get("route"), e["reason"], e["count"]) for e in seen] == [
            ("auth.failed", "/v1/decisions", "wrong secret", 1),
            ("access.refused", "/v1/decisions", seen[1]["reason"], 1),
            ("access.refused", "/v1/decisions", "this API key lacks the scope 'decisions'", 1),
            ("access.refused", "/v1/reports/{person}", seen[3]["reason"], 1),
        ]
        assert seen[0]["target"] == f"api_key:{key_id}" and seen[0]["actor"] == "anonymous"
        assert "no active consent" in seen[1]["reason"] and seen[1]["status"] == 403
        assert seen[1]["actor"] == "partner:skyair"
        assert seen[1]["target"] == f"api_key:{key_id}"
        assert "frozen" in seen[3]["reason"] and seen[3]["status"] == 423
        assert "not-the-secret" not in json.dumps(seen)

    live.stop()  # the counts of repeats are written when the server stops
    with Store.open(Settings(db=live.db)) as store:
        after = _read(store)
    repeats = [(e["action"], e["reason"], e["count"]) for e in after[len(seen) :]]
    assert sorted(repeats) == sorted(
        [("auth.failed", "wrong secret", 2), ("access.refused", seen[1]["reason"], 3)]
    )


def test_refused_forms_are_audited(live: Live) -> None:
    with httpx.Client(base_url=live.base, timeout=30) as c:
        csrf = page_token(c)
        form = {"person": "P1", "code": "x"}
        assert c.post("/login", data={**form, "csrf": csrf}).status_code == 401  # no Origin
        same = {"Origin": live.base}
        assert c.post("/login", data=form, headers=same).status_code == 403
        assert c.post("/login", data={**form, "csrf": "0" * 64}, headers=same).status_code == 403
        assert c.post("/console/audit", data={"csrf": "0" * 64}, headers=same).status_code == 403
    got = [(e["action"], e["actor"], e["route"], e["reason"]) for e in _entries_running(live)]
    assert got == [
        ("form.refused", "anonymous", "/login", "not sent from this site"),
        ("form.refused", "anonymous", "/login", "missing CSRF token"),
        ("form.refused", "anonymous", "/login", "wrong CSRF token"),
        ("form.refused", "anonymous", "/console/audit", "wrong CSRF token"),
    ]


@given(
    st.lists(st.tuples(st.integers(0, 2), st.floats(0, 100)), max_size=60),
    st.sampled_from([1, 2, 10_000]),
)
def test_grouping_counts_every_refusal_in_at_most_two_entries_a_minute(
    refusals: list[tuple[int, float]], max_kinds: int
) -> None:
    """Whatever the order and timing: the counts add up to the refusals (nothing lost, even
    when the table is full), and with room in the table a kind writes at most two entries
    for each minute it is refused in."""
    log = Refusals(window=60.0, max_kinds=max_kinds)
    written: list[tuple[int, int]] = []
    seen: dict[int, list[float]] = {}
    now = 0.0
    for kind, gap in refusals:
        now += gap
        seen.setdefault(kind, []).append(now)
        entry = AuditEntry("anonymous", "auth.failed", details={"kind": kind})
        written += [
            (e.details["kind"], e.details["count"])
            for e in log.note((str(kind), "", "", ""), entry, now)
        ]
    written += [(e.details["kind"], e.details["count"]) for e in log.due(now, everything=True)]
    for kind, times in seen.items():
        assert sum(n for k, n in written if k == kind) == len(times)
        if max_kinds > 3:
            minutes = 1 + (times[-1] - times[0]) // 60
            assert sum(k == kind for k, _ in written) <= 2 * minutes
