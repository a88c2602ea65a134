"""Ending sessions on the server (issue 17, item 3; docs/decisions/0620): signing out ends the
token for the API and the pages, the operator's cookie ends with its sign-out, the operator
ends a person's sessions or a partner's keys, and a restart keeps all of it."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from support import page_token

from credo.api import create_app
from credo.settings import Settings

from .conftest import ADMIN, Live, World, api_settings, scored_persons, sign_in

ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}


def test_signing_out_of_the_api_ends_the_token_and_a_new_sign_in_works(world: World) -> None:
    c = world.client
    assert c.get("/v1/me/file", headers=world.session).status_code == 200
    assert c.delete("/v1/me/session", headers=world.session).status_code == 204
    for path in ("/v1/me/file", "/v1/me/feed", "/v1/me/consents"):
        r = c.get(path, headers=world.session)
        assert r.status_code == 401 and r.json()["error"]["message"] == "session ended"
    again = sign_in(c, world.admin, world.person)
    assert c.get("/v1/me/file", headers=again).status_code == 200


def test_the_operator_ends_a_persons_sessions_and_a_partners_keys(world: World) -> None:
    c = world.client
    other = sign_in(c, world.admin, world.other)
    r = c.delete(f"/admin/persons/{world.person}/sessions", headers=world.admin)
    assert r.status_code == 204
    assert c.get("/v1/me/file", headers=world.session).status_code == 401
    assert c.get("/v1/me/file", headers=other).status_code == 200  # only that person's
    assert c.delete("/admin/persons/NOBODY/sessions", headers=world.admin).status_code == 404
    assert c.delete(f"/admin/persons/{world.person}/sessions").status_code == 401

    report = f"/v1/reports/{world.person}?purpose=employment"
    assert c.get(report, headers=world.as_partner("reports")).status_code == 403  # key works
    r = c.delete("/admin/partners/skyair/keys", headers=world.admin)
    assert r.status_code == 200 and len(r.json()["revoked"]) == 3
    assert c.get(report, headers=world.as_partner("reports")).status_code == 401
    assert c.delete("/admin/partners/nobody/keys", headers=world.admin).status_code == 404


def test_an_ended_session_stays_ended_after_a_restart(db: Path) -> None:
    person = scored_persons(db, 1)[0]
    with TestClient(create_app(Settings(db=db), api_settings())) as c:
        me = sign_in(c, ADMIN_H, person)
        kept = sign_in(c, ADMIN_H, scored_persons(db, 2)[1])
        assert c.delete("/v1/me/session", headers=me).status_code == 204
    with TestClient(create_app(Settings(db=db), api_settings())) as c:
        assert c.get("/v1/me/file", headers=me).status_code == 401
        assert c.get("/v1/me/file", headers=kept).status_code == 200


def test_signing_out_of_the_pages_ends_the_session_for_the_api_too(live: Live) -> None:
    person = scored_persons(live.db, 1)[0]
    with httpx.Client(base_url=live.base, timeout=30, headers={"Origin": live.base}) as c:
        code = c.post(f"/admin/persons/{person}/login-codes", headers=ADMIN_H).json()["code"]
        csrf = page_token(c)
        r = c.post("/login", data={"person": person, "code": code, "csrf": csrf})
        assert r.status_code == 303
        token = c.cookies["credo_session"]
        assert c.get("/v1/me/file", headers={"Authorization": f"Bearer {token}"}).is_success
        assert c.post("/logout", data={"csrf": page_token(c, "/me")}).status_code == 303
    with httpx.Client(base_url=live.base, timeout=30) as stolen:
        r = stolen.get("/v1/me/file", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        stolen.cookies.set("credo_session", token)
        page = stolen.get("/me")
        assert page.status_code == 303 and page.headers["location"] == "/login"


def test_the_operators_cookie_no_longer_opens_the_console_after_sign_out(live: Live) -> None:
    with httpx.Client(base_url=live.base, timeout=30, headers={"Origin": live.base}) as c:
        csrf = page_token(c, "/console/login")
        r = c.post("/console/login", data={"token": ADMIN, "csrf": csrf})
        assert r.status_code == 303
        cookie = c.cookies["credo_operator"]
        assert c.get("/console").status_code == 200
        assert c.post("/console/logout", data={"csrf": csrf}).status_code == 303
    with httpx.Client(base_url=live.base, timeout=30, cookies={"credo_operator": cookie}) as old:
        r = old.get("/console")
        assert r.status_code == 303 and r.headers["location"] == "/console/login"


def test_the_console_ends_a_persons_sessions(live: Live) -> None:
    person = scored_persons(live.db, 1)[0]
    with httpx.Client(base_url=live.base, timeout=30, headers={"Origin": live.base}) as c:
        code = c.post(f"/admin/persons/{person}/login-codes", headers=ADMIN_H).json()["code"]
        token = c.post("/v1/me/session", json={"person": person, "code": code}).json()["token"]
        csrf = page_token(c, "/console/login")
        assert c.post("/console/login", data={"token": ADMIN, "csrf": csrf}).status_code == 303
        r = c.post("/console/sessions", data={"person": person, "csrf": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/console?done=ended#codes"
        r = c.post("/console/sessions", data={"person": "NOBODY", "csrf": csrf})
        assert r.status_code == 404 and "no person" in r.text
        r = c.get("/v1/me/file", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
