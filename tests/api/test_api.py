"""The service over TestClient: one error shape, the access matrix, decisions, outcomes,
reports, the person's file, freeze, consent and audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from credo.api.partner import DecisionResponse, decision_json
from credo.client import AdminClient, CredoAPIError, DecisionAnswer, PartnerClient
from credo.purposes import PURPOSES, REPORT_PURPOSES
from credo.rights.decisions import Decision
from credo.store import audit

from .conftest import World


def _error(r: Any, status: int, kind: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "status", "message", "hint", "fields"}
    assert body["error"]["status"] == status and body["error"]["type"] == kind
    return dict(body["error"])


def test_one_error_shape_for_every_error(world: World) -> None:
    c = world.client
    _error(c.get("/nowhere"), 404, "HTTPError")
    _error(c.delete("/v1/decisions"), 405, "HTTPError")
    err = _error(
        c.post("/v1/decisions", json={"person": 1}, headers=world.as_partner("decisions")),
        422,
        "ValidationError",
    )
    assert {f["field"] for f in err["fields"]} >= {"person", "product", "consent"}
    _error(c.post("/v1/decisions", json={}), 401, "AuthError")
    # A CredoError answers with its class's status: an unknown product is NotFoundError.
    body = {"person": world.person, "product": "yacht", "consent": "x"}
    r = c.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    assert "yacht" in _error(r, 404, "NotFoundError")["message"]
    assert "/v1/decisions" in c.get("/openapi.json").json()["paths"]


PARTNER_CALLS = {
    "decisions": ("post", "/v1/decisions"),
    "reports": ("get", "/v1/reports/{person}?purpose=credit_transaction"),
    "outcomes": ("post", "/v1/outcomes"),
}


def _call(world: World, scope: str, headers: dict[str, str], consent: str = "none") -> Any:
    method, path = PARTNER_CALLS[scope]
    path = path.format(person=world.person)
    body: dict[str, Any] = {
        "decisions": {"person": world.person, "product": "large_loans", "consent": consent},
        "outcomes": {
            "person": world.person,
            "decision_id": "dec_none",
            "event": {"event_type": "loan", "source_record_id": "L1",
                      "occurred_at": "2026-11-01T00:00:00", "loan_event": "closed",
                      "account_id": "A1"},
        },
    }.get(scope, {})  # fmt: skip
    if method == "get":
        return world.client.get(path, headers=headers)
    return world.client.post(path, json=body, headers=headers)


@pytest.mark.parametrize("scope", list(PARTNER_CALLS))
def test_partner_endpoints_by_audience_and_consent(world: World, scope: str) -> None:
    # Wrong audience or wrong scope: never through.
    assert _call(world, scope, {}).status_code == 401
    assert _call(world, scope, world.session).status_code == 401
    assert _call(world, scope, world.admin).status_code == 401
    other_scope = next(s for s in PARTNER_CALLS if s != scope)
    assert _call(world, scope, world.as_partner(other_scope)).status_code == 403
    key = world.as_partner(scope)
    # Right key, no consent: 403 (the same for an unknown person: nothing to probe).
    assert _call(world, scope, key).status_code == 403
    consent = world.grant("credit_transaction")
    if scope == "outcomes":  # consent is not enough: only a partner that served the person
        assert _call(world, scope, key).status_code == 403
        return
    assert _call(world, scope, key, consent).status_code == 200
    # Revoked: no more.
    world.client.post(
        "/v1/me/consents",
        json={"action": "revoke", "partner": world.partner, "purpose": "credit_transaction"},
        headers=world.session,
    )
    assert _call(world, scope, key, consent).status_code == 403
    # Re-granted and frozen: 423; unfrozen: through again.
    consent = world.grant("credit_transaction")
    assert world.client.put("/v1/me/freeze", headers=world.session).json() == {"frozen": True}
    assert _call(world, scope, key, consent).status_code == 423
    world.client.delete("/v1/me/freeze", headers=world.session)
    assert _call(world, scope, key, consent).status_code == 200


def test_consent_is_per_partner_and_purpose(world: World) -> None:
    world.operator.add_partner("other", "Other")
    api = world.partner_api("decisions")
    for_other = world.grant("credit_transaction", partner="other")
    for_rental = world.grant("rental")
    for consent in (for_other, for_rental):
        with pytest.raises(CredoAPIError) as refused:
            api.decide(world.person, "large_loans", consent)
        assert refused.value.status == 403 and "no active consent" in refused.value.message
    assert api.decide(world.person, "bike_rental", for_rental)["outcome"] == "approved"


def test_a_wrong_consent_reference_is_named_as_such(world: World) -> None:
    api = world.partner_api("decisions")
    world.grant("rental")
    with pytest.raises(CredoAPIError) as refused:
        api.decide(world.person, "bike_rental", "ce-typo")
    assert refused.value.status == 403 and refused.value.type == "ForbiddenError"
    assert "'ce-typo' is not the person's active consent" in refused.value.message
    assert refused.value.hint and "latest grant" in refused.value.hint
    # Without any grant the answer stays the one an unknown person gets: nothing to probe.
    for person in (world.other, "NOBODY"):
        with pytest.raises(CredoAPIError) as refused:
            api.decide(person, "bike_rental", "ce-typo")
        assert refused.value.message.startswith("no active consent from this person")


def test_products_list_purposes_thresholds_and_terms(world: World) -> None:
    products = PartnerClient(http=world.client, key="").products()  # no key needed
    by_name = {p["name"]: p for p in products["products"]}
    assert by_name["car_rental"]["purpose"] == "rental"
    assert by_name["car_rental"]["rules"][0] == {
        "min_score": 650, "outcome": "approved", "terms": {"deposit": 0},
        "reason": "score 650+: no deposit",
    }  # fmt: skip
    assert by_name["large_loans"]["restricted"] is True
    assert {p["purpose"] for p in by_name.values()} <= set(PURPOSES)
    assert products["report_purposes"] == list(REPORT_PURPOSES)
    assert products["version"] == "2026.1" and products["digest"].startswith("sha256:")


def test_partners_are_listed_with_their_keys_never_a_secret(world: World) -> None:
    listed = world.operator.partners()
    assert [p["partner_id"] for p in listed] == ["skyair"]
    keys = listed[0]["keys"]
    assert sorted(s for k in keys for s in k["scopes"]) == ["decisions", "outcomes", "reports"]
    assert all(k["revoked_at"] is None for k in keys)
    text = str(listed)
    assert not any(key.split("_", 2)[2] in text for key in world.keys.values())
    with pytest.raises(CredoAPIError) as refused:
        AdminClient(token="wrong", http=world.client).partners()
    assert refused.value.status == 401


@pytest.mark.parametrize("path", ["/v1/me/file", "/v1/me/feed", "/v1/me/consents",
                                  "/v1/me/disputes"])  # fmt: skip
def test_person_endpoints_only_with_own_session(world: World, path: str) -> None:
    c = world.client
    for headers in (
        {},
        world.admin,
        world.as_partner("reports"),
        {"Authorization": "Bearer " + world.session["Authorization"][7:] + "x"},
    ):
        assert c.get(path, headers=headers).status_code == 401  # fmt: skip
    assert c.get(path, headers=world.session).status_code == 200
    # No endpoint takes a person id: another person's session reads only their own file.
    from .conftest import sign_in

    theirs = sign_in(c, world.admin, world.other)
    if path == "/v1/me/file":
        assert c.get(path, headers=theirs).json()["person"] == world.other


def test_admin_endpoints_need_the_admin_token(world: World) -> None:
    c = world.client
    for headers in ({}, world.session, world.as_partner("decisions"),
                    {"Authorization": "Bearer " + "b" * 40}):  # fmt: skip
        assert c.get("/admin/disputes", headers=headers).status_code == 401
        r = c.post(f"/admin/persons/{world.person}/login-codes", headers=headers)
        assert r.status_code == 401
    assert c.get("/admin/disputes", headers=world.admin).status_code == 200


def test_login_code_works_once(world: World) -> None:
    c = world.client
    code = c.post(f"/admin/persons/{world.person}/login-codes", headers=world.admin).json()["code"]
    wrong = c.post("/v1/me/session", json={"person": world.other, "code": code})
    _error(wrong, 401, "AuthError")
    assert c.post("/v1/me/session", json={"person": world.person, "code": code}).status_code == 200
    _error(c.post("/v1/me/session", json={"person": world.person, "code": code}), 401, "AuthError")


def test_revoked_key_is_refused(world: World) -> None:
    key_id = world.keys["reports"].split("_")[1]
    world.operator.revoke_key(key_id)
    with pytest.raises(CredoAPIError) as refused:
        world.partner_api("reports").report(world.person, "employment")
    assert refused.value.status == 401 and refused.value.type == "AuthError"
    revoked = world.operator.partners()[0]["keys"]
    assert [k["key_id"] for k in revoked if k["revoked_at"] is not None] == [key_id]


def test_the_client_types_the_documented_decision() -> None:
    # credo.client stands alone (a partner installs nothing else), so it spells the answer out
    assert DecisionAnswer.__annotations__.keys() == DecisionResponse.model_fields.keys()


def test_decision_is_recorded_with_what_it_used(world: World) -> None:
    c = world.client
    consent = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = c.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    # The route writes its answer itself: it must still be what the schema documents.
    assert r.headers["content-type"] == "application/json"
    DecisionResponse.model_validate_json(r.content, strict=True)
    d = r.json()
    assert dt.datetime.fromisoformat(d["decided_at"]).utcoffset() == dt.timedelta(0)
    assert (
        d["outcome"] == "approved"
        and d["run_id"]
        and d["products_version"].startswith("zhima-partners 2026.1")
    )
    assert d["terms"] == ({"deposit": 0} if d["score"] >= 650 else {"deposit": 99})
    assert d["reasons"][0]["text"]
    svc = c.app.state.service  # type: ignore[attr-defined]
    row = svc.run(
        svc.store.con.execute,
        "SELECT score, run_id, consent_id FROM decisions WHERE decision_id = ?",
        [d["decision_id"]],
    ).fetchall()
    assert row == [(d["score"], d["run_id"], consent)]
    # The person sees the inquiry in the file and the feed.
    file = c.get("/v1/me/file", headers=world.session).json()
    assert [(i["partner"], i["kind"], i["purpose"]) for i in file["inquiries"]] == [
        ("skyair", "decision", "rental")
    ]
    assert file["scores"] and file["points_table"] and file["events"]
    assert all("national_id_hash" not in e for e in file["events"])
    feed = c.get("/v1/me/feed", headers=world.session).json()
    assert feed[0]["kind"] == "inquiry"


def _refused(call: Callable[[], object]) -> CredoAPIError:
    with pytest.raises(CredoAPIError) as refused:
        call()
    return refused.value


def test_outcome_becomes_an_event_for_the_person(world: World) -> None:
    consent = world.grant("rental")
    d = world.partner_api("decisions").decide(world.person, "car_rental", consent)
    event: dict[str, Any] = {
        "event_type": "rental", "source_record_id": "R-1", "item": "car",
        "occurred_at": "2026-11-20T10:00:00Z", "deposit": "waived",
        "returned_on_time": False, "damage": True, "unpaid_amount": "820.50",
    }  # fmt: skip
    api = world.partner_api("outcomes")
    stored = api.outcome(world.person, d["decision_id"], event)
    assert stored["source"] == "partner:skyair"
    svc = world.client.app.state.service  # type: ignore[attr-defined]
    row = svc.run(
        svc.store.con.execute,
        "SELECT e.source, e.partner, e.unpaid_amount, p.person_id FROM events e"
        " JOIN event_persons p USING (event_id) WHERE e.event_id = ?",
        [stored["event_id"]],
    ).fetchall()
    assert row[0][0] == "partner:skyair" and row[0][1] == "skyair" and row[0][3] == world.person
    assert float(row[0][2]) == 820.5
    again = _refused(lambda: api.outcome(world.person, d["decision_id"], event))
    assert (again.status, again.type) == (409, "ConflictError")
    # Another person, the same decision id: refused.
    other = _refused(lambda: api.outcome(world.other, d["decision_id"], event))
    assert (other.status, other.type) == (403, "ForbiddenError")
    # Validation goes through the event model: a future date is refused.
    event |= {"source_record_id": "R-2", "occurred_at": "2099-01-01T00:00:00"}
    future = _refused(lambda: api.outcome(world.person, d["decision_id"], event))
    assert (future.status, future.type) == (422, "InputError")
    assert "occurred_at" in future.message


def test_report_needs_a_permissible_purpose_and_shows_disputes(world: World) -> None:
    c = world.client
    key = world.as_partner("reports")
    api = world.partner_api("reports")
    world.grant("tenancy")
    curious = _refused(lambda: api.report(world.person, "curiosity"))
    assert (curious.status, curious.type) == (422, "InputError")
    assert curious.hint and "tenancy" in curious.hint
    _error(c.get(f"/v1/reports/{world.person}", headers=key), 422, "ValidationError")
    report = api.report(world.person, "tenancy")
    assert report["band"] and set(report["payments"]) == {"rent", "utility"}
    assert report["disputed_items"] == []
    file = c.get("/v1/me/file", headers=world.session).json()
    bill = next(e for e in file["events"] if e["event_type"] == "bill")
    r = c.post("/v1/me/disputes", json={"event_id": bill["event_id"], "statement": "paid"},
               headers=world.session)  # fmt: skip
    assert r.status_code == 201
    report = api.report(world.person, "tenancy")
    assert [d["record_id"] for d in report["disputed_items"]] == [bill["source_record_id"]]
    # Another person's event cannot be disputed (and its existence does not show).
    other_event = _other_event(world)
    r = c.post("/v1/me/disputes", json={"event_id": other_event, "statement": "x"},
               headers=world.session)  # fmt: skip
    _error(r, 404, "NotFoundError")


def _other_event(world: World) -> int:
    svc = world.client.app.state.service  # type: ignore[attr-defined]
    return int(
        svc.run(
            svc.store.scalar,
            "SELECT min(event_id) FROM event_persons WHERE person_id = ? AND role = 'subject'",
            [world.other],
        )
    )


def test_every_read_and_write_is_audited_in_one_chain(world: World) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    before = svc.run(svc.store.scalar, "SELECT count(*) FROM audit_log")
    consent = world.grant("tenancy")
    c.get(f"/v1/reports/{world.person}?purpose=tenancy", headers=world.as_partner("reports"))
    c.get("/v1/me/file", headers=world.session)
    rows = svc.run(
        svc.store.con.execute,
        "SELECT actor, action, target, purpose FROM audit_log WHERE seq > ? ORDER BY seq",
        [before],
    ).fetchall()
    who = f"person:{world.person}"
    assert rows == [
        (who, "consent.grant", who, "consent"),
        ("partner:skyair", "report", who, "tenancy"),
        (who, "read.file", who, "own file"),
    ]
    assert consent and svc.run(audit.verify, svc.store.con).ok


def test_unverified_dispute_stops_counting_after_the_profiles_days(world: World) -> None:
    from credo.policy.rules import active_rules
    from credo.rights import expire_disputes, get_dispute

    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    file = c.get("/v1/me/file", headers=world.session).json()
    bill = next(e for e in file["events"] if e["event_type"] == "bill")
    r = c.post("/v1/me/disputes", json={"event_id": bill["event_id"], "statement": "not mine"},
               headers=world.session)  # fmt: skip
    dispute = r.json()
    opened = dt.datetime.fromisoformat(dispute["opened_at"])
    days = active_rules(svc.store.settings).disputes.days  # 20: the default's, China's
    assert svc.run(expire_disputes, svc.store, now=opened + dt.timedelta(days=days - 1)) == []
    expired = svc.run(expire_disputes, svc.store, now=opened + dt.timedelta(days=days + 1))
    assert [d.dispute_id for d in expired] == [dispute["dispute_id"]]
    done = svc.run(get_dispute, svc.store, dispute["dispute_id"])
    assert done.status == "expired" and done.correction_event_id
    # The item is retracted for scoring: the feature SQL no longer sees it.
    from credo.features import PointInTime
    from credo.features.sql import known_events
    from credo.sql import dialect

    pit = PointInTime(dt.date(2027, 1, 31), dt.datetime(2027, 1, 31))
    seen = svc.run(
        svc.store.con.execute,
        f"SELECT event_id FROM {known_events(dialect('duckdb'), pit, ['bill'])} k"
        " WHERE event_id = ?",
        [bill["event_id"]],
    ).fetchall()
    assert seen == []


def test_decision_answer_carries_zones_and_disputed_items() -> None:
    at = dt.datetime(2026, 11, 3, 9, 30)
    d = Decision("dec_1", "P1", "flight_booking", "declined", {}, [{"code": "c", "text": "张三"}],
                 612.0, "good", "run", "bureau 1", "products 1",
                 [{"dispute_id": "dsp_1", "event_type": "judgment", "source": "court",
                   "record_id": "J-1", "since": at}], at)  # fmt: skip
    body = DecisionResponse.model_validate_json(decision_json(d), strict=True)
    assert body.decided_at == at.replace(tzinfo=dt.UTC)
    assert body.disputed_items[0]["since"] == "2026-11-03T09:30:00+00:00"
    assert body.reasons[0].text == "张三"
