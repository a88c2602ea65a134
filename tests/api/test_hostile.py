"""Hostile requests over a real server (issue 17's probe classes): each is answered in the one
error shape with the status that says why, never a server error, and changes nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from credo.access import exchange_login_code

from .conftest import ADMIN, Live, scored_persons

ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
HOSTILE_IDS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "' OR 1=1 --",
    "x'); DROP TABLE persons; --",
    "<script>alert(1)</script>",
    "P0000001\x00",
    "{{7*7}}",
    "%00",
    "a" * 5000,
]


def _shape(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "status", "message", "hint", "fields"}
    assert body["error"]["status"] == status
    error: dict[str, Any] = body["error"]
    return error


def _raw(live: Live, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send bytes as they are (no client would send these) and read the answer.

    The server answers and closes as soon as it has seen too much, with the rest of a huge
    request unread: the sending runs in a thread while this one reads, so the answer is read
    before the connection is reset."""
    port = int(live.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:

        def send() -> None:
            with contextlib.suppress(OSError):
                s.sendall(request)

        sender = threading.Thread(target=send)
        sender.start()
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := s.recv(65536):
                answer += chunk
        sender.join(10)
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


@pytest.fixture
def keyed(live: Live) -> Iterator[tuple[httpx.Client, dict[str, str], str, str]]:
    person, other = scored_persons(live.db)
    with httpx.Client(base_url=live.base, timeout=30) as c:
        c.post("/admin/partners", json={"partner_id": "skyair", "name": "Sky Air"},
               headers=ADMIN_H)  # fmt: skip
        scopes = {"scopes": ["decisions", "reports", "outcomes"]}
        key = c.post("/admin/partners/skyair/keys", json=scopes, headers=ADMIN_H).json()["key"]
        yield c, {"Authorization": f"Bearer {key}"}, person, other


def test_oversized_bodies_are_refused_before_they_are_read(live: Live, keyed: Any) -> None:
    c, key, person, _ = keyed
    big = b'{"person": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    _shape(c.post("/v1/decisions", content=big, headers=key), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(64):
            yield b"a" * 65536

    r = c.post("/v1/me/consents", content=chunks(), headers={"Content-Type": "application/json"})
    assert _shape(r, 413)["message"] == "request body over 1,048,576 bytes"
    ok = {"person": person, "product": "car_rental", "consent": "none"}
    assert c.post("/v1/decisions", json=ok, headers=key).status_code == 403  # still serving


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_refused(keyed: Any, depth: int) -> None:
    c, key, _, _ = keyed
    deep = "[" * depth + "]" * depth
    for path, headers in (
        ("/v1/decisions", key),
        ("/v1/outcomes", key),
        ("/admin/partners", ADMIN_H),
    ):
        r = c.post(path, content=deep, headers={**headers, "Content-Type": "application/json"})
        assert r.status_code in (400, 422), r.text[:200]
        _shape(r, r.status_code)


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_injection_and_traversal_strings_in_ids(keyed: Any, hostile: str) -> None:
    c, key, _, _ = keyed
    r = c.get(f"/v1/reports/{quote(hostile, safe='')}", params={"purpose": "employment"},
              headers=key)  # fmt: skip
    assert r.status_code in (403, 404, 422), r.text[:200]
    _shape(r, r.status_code)
    body = {"person": hostile, "product": hostile, "consent": hostile}
    r = c.post("/v1/decisions", json=body, headers=key)
    assert r.status_code in (404, 422), r.text[:200]  # no such product, or too long
    _shape(r, r.status_code)
    r = c.post(f"/admin/persons/{quote(hostile, safe='')}/login-codes", headers=ADMIN_H)
    assert r.status_code in (404, 422), r.text[:200]
    _shape(r, r.status_code)
    assert c.get("/admin/disputes", headers=ADMIN_H).status_code == 200  # the tables are there


def test_wrong_and_unknown_methods(live: Live, keyed: Any) -> None:
    c, key, _, _ = keyed
    _shape(c.request("PATCH", "/v1/decisions", headers=key), 405)
    _shape(c.request("DELETE", "/v1/me/file"), 405)
    _shape(c.request("PUT", "/admin/disputes", headers=ADMIN_H), 405)
    status, body = _raw(live, b"FOO /v1/decisions HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and body["error"]["message"] == "unknown method"


def test_an_over_long_request_line_or_headers(live: Live) -> None:
    status, body = _raw(live, b"GET /" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and body["error"]["status"] == 414
    huge = b"GET /login HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 1_000_000 + b"\r\n\r\n"
    status, body = _raw(live, huge)
    assert status == 431 and body["error"]["status"] == 431
    status, body = _raw(live, b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400 and body["error"]["type"] == "HTTPError"


def test_bad_expired_and_ended_tokens(live: Live, keyed: Any) -> None:
    c, _, person, _ = keyed
    for token in ("x", "forged.token", "a.b.c", "e30.e30", "%00.%00", "." + "a" * 43):
        r = c.get("/v1/me/file", headers={"Authorization": f"Bearer {token}"})
        _shape(r, 401)
    for key in ("credo_", "credo_000000000000_x", "credo_zz_" + "a" * 43, "Basic abc"):
        _shape(c.get(f"/v1/reports/{person}?purpose=x", headers={"Authorization": key}), 401)
    svc = live.app.state.service
    code = c.post(f"/admin/persons/{person}/login-codes", headers=ADMIN_H).json()["code"]
    expired = svc.run(exchange_login_code, svc.store, person, code,
                      ttl=dt.timedelta(seconds=-5))  # fmt: skip
    r = c.get("/v1/me/file", headers={"Authorization": f"Bearer {expired}"})
    assert _shape(r, 401)["message"] == "session expired"
    code = c.post(f"/admin/persons/{person}/login-codes", headers=ADMIN_H).json()["code"]
    token = c.post("/v1/me/session", json={"person": person, "code": code}).json()["token"]
    me = {"Authorization": f"Bearer {token}"}
    assert c.delete("/v1/me/session", headers=me).status_code == 204
    assert _shape(c.get("/v1/me/feed", headers=me), 401)["message"] == "session ended"
    _shape(c.get("/admin/disputes", headers={"Authorization": "Bearer " + "b" * 40}), 401)


def test_other_peoples_ids(live: Live, keyed: Any) -> None:
    c, key, person, other = keyed
    code = c.post(f"/admin/persons/{person}/login-codes", headers=ADMIN_H).json()["code"]
    token = c.post("/v1/me/session", json={"person": person, "code": code}).json()["token"]
    me = {"Authorization": f"Bearer {token}"}
    svc = live.app.state.service
    theirs = svc.run(
        svc.store.scalar, "SELECT min(event_id) FROM event_persons WHERE person_id = ?", [other]
    )
    r = c.post("/v1/me/disputes", json={"event_id": theirs, "statement": "not mine"}, headers=me)
    _shape(r, 404)
    grant = {"action": "grant", "partner": "skyair", "purpose": "employment"}
    consent = c.post("/v1/me/consents", json=grant, headers=me).json()["consent_id"]
    # A consent reference of one person does not open another's file.
    ask = {"person": other, "product": "car_rental", "consent": consent}
    _shape(c.post("/v1/decisions", json=ask, headers=key), 403)
    _shape(c.get(f"/v1/reports/{other}?purpose=employment", headers=key), 403)
    outcome = {"person": other, "decision_id": "d-none", "event": {
        "event_type": "rental", "source_record_id": "r1", "occurred_at": "2026-10-01T00:00:00Z",
        "item": "bike", "deposit": "paid", "returned_on_time": True}}  # fmt: skip
    _shape(c.post("/v1/outcomes", json=outcome, headers=key), 403)
