"""The request tracker (RULES R-GDPR-1, R-GDPR-3) and objections (R-GDPR-5) through the HTTP
API: every request a person makes has a deadline from the rules profile, can be extended once
within its first period with reasons the person sees, and shows as overdue when it runs late."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credo.api import create_app
from credo.errors import ConflictError
from credo.policy.rules import active_rules
from credo.rights.requests import extend_request, tracker
from credo.settings import Settings
from credo.store.audit import verify

from .conftest import World, api_settings, make_world, scored_persons


@pytest.fixture
def gdpr(db: Path) -> Iterator[World]:
    """The service under the EU profile: one month to answer, two more by extension."""
    person, other = scored_persons(db)
    settings = Settings(db=db, rules_profile="eu-gdpr")
    with TestClient(create_app(settings, api_settings())) as client:
        yield make_world(client, person, other)


def _when(item: dict[str, Any], key: str) -> dt.datetime:
    return dt.datetime.fromisoformat(item[key]).replace(tzinfo=None)


def _decide(world: World, consent: str) -> int:
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    return r.status_code


def test_R_GDPR_1_every_request_has_its_deadline_and_one_extension_with_reasons(
    gdpr: World,
) -> None:
    world = gdpr
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    notices = active_rules(svc.store.settings).notices
    objection = c.post("/v1/me/objections", json={"grounds": "I never agreed to profiling"},
                       headers=world.session)  # fmt: skip
    assert objection.status_code == 201, objection.text
    review = c.post("/v1/me/reviews", json={"statement": "the score misses my salary"},
                    headers=world.session)  # fmt: skip
    assert review.status_code == 201, review.text
    assert c.get("/v1/me/export", headers=world.session).status_code == 200

    mine = c.get("/v1/me/requests", headers=world.session).json()
    assert sorted(r["kind"] for r in mine) == ["access", "objection", "review"]
    for r in mine:
        days = dt.timedelta(days=notices.request_response_days)
        assert _when(r, "due_at") == _when(r, "requested_at") + days, r
        assert r["overdue"] is False and r["extended"] is False
    access = next(r for r in mine if r["kind"] == "access")
    assert access["open"] is False and access["status"] == "done"  # answered at once
    queue = c.get("/admin/requests", params={"open": "true"}, headers=world.admin).json()
    assert [(q["kind"], q["person_id"]) for q in queue] == [
        ("objection", world.person),
        ("review", world.person),
    ]

    obj = objection.json()
    late = _when(obj, "due_at") + dt.timedelta(days=1)
    with pytest.raises(ConflictError, match="past its deadline"):  # only in the first month
        svc.run(extend_request, svc.store, obj["request_id"], "busy", now=late)
    path = f"/admin/requests/{obj['request_id']}/extend"
    assert c.post(path, json={"reason": ""}, headers=world.admin).status_code == 422
    reason = "the objection needs the furnisher's records"
    extended = c.post(path, json={"reason": reason}, headers=world.admin)
    assert extended.status_code == 200, extended.text
    more = dt.timedelta(days=notices.request_extension_days)
    assert _when(extended.json(), "due_at") == _when(obj, "due_at") + more
    again = c.post(path, json={"reason": "more"}, headers=world.admin)
    assert again.status_code == 409 and "already extended" in again.text
    done = c.post(f"/admin/requests/{access['request_id']}/extend", json={"reason": "x"},
                  headers=world.admin)  # fmt: skip
    assert done.status_code == 409
    seen = next(r for r in c.get("/v1/me/requests", headers=world.session).json()
                if r["kind"] == "objection")  # fmt: skip
    assert seen["extended"] is True and seen["extension_reason"] == reason

    # Overdue: the review runs late a day after its month, the objection after its extension.
    month = _when(obj, "requested_at") + dt.timedelta(days=notices.request_response_days + 1)
    at_month = {t.kind: t.overdue for t in svc.run(tracker, svc.store, world.person, now=month)}
    assert at_month == {"access": False, "objection": False, "review": True}
    later = month + more
    assert all(t.overdue for t in svc.run(tracker, svc.store, world.person, now=later) if t.open)
    sql = ("SELECT action FROM audit_log WHERE action LIKE 'request.%'"
           " OR action LIKE 'objection.%' ORDER BY seq")  # fmt: skip
    logged = svc.run(svc.store.con.execute, sql).fetchall()
    assert [a for (a,) in logged] == ["objection.request", "request.access", "request.extend"]
    assert svc.run(verify, svc.store.con).ok
    notice = html.unescape(c.get("/privacy").text)  # the notice promises the same figures
    assert (f"answered within {notices.request_response_days} days, or, with reasons given"
            f" within that time, {notices.request_extension_days} more") in notice  # fmt: skip


def test_R_GDPR_1_a_profile_without_extensions_refuses_one(world: World) -> None:
    c = world.client
    r = c.post("/v1/me/objections", json={"grounds": "no"}, headers=world.session)
    path = f"/admin/requests/{r.json()['request_id']}/extend"
    refused = c.post(path, json={"reason": "busy"}, headers=world.admin)
    assert refused.status_code == 409 and "allows no extension" in refused.text


def test_R_GDPR_3_a_correction_is_tracked_to_its_re_score(world: World) -> None:
    c = world.client
    events = c.get("/v1/me/file", headers=world.session).json()["events"]
    item = next(e for e in events if e["event_type"] == "bill")
    opened = c.post("/v1/me/disputes", json={"event_id": item["event_id"],
                    "statement": "I paid this bill on time"}, headers=world.session)  # fmt: skip
    assert opened.status_code == 201, opened.text
    dispute = opened.json()
    (tracked,) = c.get("/v1/me/requests", headers=world.session).json()
    assert tracked["kind"] == "correction" and tracked["open"] is True
    assert tracked["request_id"] == dispute["dispute_id"]
    assert tracked["due_at"] == dispute["due_at"] and tracked["statement"] == dispute["statement"]
    queue = c.get("/admin/requests", params={"open": "true"}, headers=world.admin).json()
    assert [q["request_id"] for q in queue] == [dispute["dispute_id"]]

    r = c.post(f"/admin/disputes/{dispute['dispute_id']}/resolve",
               json={"decision": "correct", "action": "retract", "note": "the biller agreed"},
               headers=world.admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["rescored_run_id"], "a correction re-scores the person off-cycle"
    (closed,) = c.get("/v1/me/requests", headers=world.session).json()
    assert closed["open"] is False and closed["overdue"] is False
    assert closed["status"] == "corrected" and closed["outcome_note"] == "the biller agreed"
    assert c.get("/admin/requests", params={"open": "true"}, headers=world.admin).json() == []
    scores = c.get("/v1/me/file", headers=world.session).json()["scores"]
    assert scores[-1]["kind"] == "correction"


def test_R_GDPR_5_an_objection_stops_processing_until_assessed_and_upheld_erases(
    world: World, db: Path
) -> None:
    c = world.client
    consent = world.grant("rental")
    assert _decide(world, consent) == 200
    grounds = "objection-grounds-7f3a: my situation changed"
    r = c.post("/v1/me/objections", json={"grounds": grounds}, headers=world.session)
    assert r.status_code == 201, r.text
    first = r.json()
    assert c.get("/v1/me/file", headers=world.session).json()["restricted"] is True
    assert _decide(world, consent) == 423  # processing stops pending the assessment
    twice = c.post("/v1/me/objections", json={"grounds": "again"}, headers=world.session)
    assert twice.status_code == 409

    path = f"/admin/objections/{first['request_id']}/decide"
    assert c.post(path, json={"outcome": "rejected", "note": ""},
                  headers=world.admin).status_code == 422  # fmt: skip
    rejected = c.post(path, json={"outcome": "rejected",
                                  "note": "fraud prevention for the partners' lending"},
                      headers=world.admin)  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    assert c.get("/v1/me/file", headers=world.session).json()["restricted"] is False
    assert _decide(world, consent) == 200
    seen = next(r for r in c.get("/v1/me/requests", headers=world.session).json()
                if r["request_id"] == first["request_id"])  # fmt: skip
    assert seen["status"] == "rejected" and "fraud prevention" in seen["outcome_note"]
    assert c.post(path, json={"outcome": "upheld", "note": "x"},
                  headers=world.admin).status_code == 409  # fmt: skip

    second = c.post("/v1/me/objections", json={"grounds": grounds}, headers=world.session)
    upheld = c.post(f"/admin/objections/{second.json()['request_id']}/decide",
                    json={"outcome": "upheld", "note": "no compelling grounds"},
                    headers=world.admin)  # fmt: skip
    assert upheld.status_code == 200, upheld.text
    erasure = upheld.json()["erasure"]
    assert erasure["status"] == "done" and erasure["removed"]["events"] > 0
    assert c.get("/v1/me/file", headers=world.session).json()["events"] == []
    assert c.get("/admin/audit/verify", headers=world.admin).json()["ok"] is True
    assert grounds.encode() not in db.read_bytes()  # the grounds went with the rest
