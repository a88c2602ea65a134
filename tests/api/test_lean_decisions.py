"""``POST /v1/decisions``' lean path (docs/decisions/0964) answers as the full ASGI stack does:
each request below is sent through the app as ``credo serve`` runs it and through
``CredoApp.stack`` alone, and the two answers must have the same status, headers (in order)
and body; a decision's two answers differ only in its id and time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credo.api.lean import CredoApp
from credo.api.service import Service
from credo.rights import freeze

from .conftest import World

Answer = tuple[int, list[tuple[str, str]], Any]


def _answer(r: Any) -> Answer:
    """Status, headers in order, body (an ``httpx`` response of the test client)."""
    try:
        body: Any = r.json()
    except ValueError:
        body = r.text
    return r.status_code, list(r.headers.multi_items()), body


@pytest.fixture
def full(world: World) -> Iterator[TestClient]:
    """A client of the same running app through its full stack (its lifespan already ran)."""
    app = world.client.app
    assert isinstance(app, CredoApp)
    yield TestClient(app.stack, raise_server_exceptions=False)


@pytest.fixture
def lean(world: World) -> TestClient:
    """A client of the same running app as ``credo serve`` runs it."""
    return TestClient(world.client.app, raise_server_exceptions=False)


def _both(lean: TestClient, full: TestClient, **request: Any) -> tuple[Answer, Answer]:
    return _answer(lean.post("/v1/decisions", **request)), _answer(
        full.post("/v1/decisions", **request)
    )


def _ask(world: World, consent: str = "no-such-consent", **more: Any) -> dict[str, Any]:
    return {"person": world.person, "product": "car_rental", "consent": consent, **more}


def _known(world: World, scope: str) -> dict[str, str]:
    """The key of ``scope``, used once so the service knows it (the lean path's only keys)."""
    headers = world.as_partner(scope)
    world.client.post("/v1/decisions", json={}, headers=headers)
    svc: Service = world.client.app.state.service  # type: ignore[attr-defined]
    assert svc.known_key(world.keys[scope]) is not None
    return headers


def test_a_decision_is_answered_with_the_same_bytes_and_headers(
    world: World, lean: TestClient, full: TestClient
) -> None:
    consent = world.grant("rental")
    headers = _known(world, "decisions")
    (status, head, body), (f_status, f_head, f_body) = _both(
        lean, full, json=_ask(world, consent), headers=headers
    )
    assert status == f_status == 200
    assert body["decision_id"] != f_body["decision_id"]
    for answer in (body, f_body):
        del answer["decision_id"], answer["decided_at"]
    assert body == f_body and body["outcome"] in ("approved", "declined")
    assert [h for h in head if h[0] != "content-length"] == [
        h for h in f_head if h[0] != "content-length"
    ]
    assert [h[0] for h in head] == [h[0] for h in f_head]


def _key_cases(world: World) -> dict[str, dict[str, str]]:
    decisions = world.keys["decisions"]
    key_id = decisions.split("_")[1]
    return {
        "no header": {},
        "another scheme": {"Authorization": f"Basic {decisions}"},
        "bearer without a key": {"Authorization": "Bearer "},
        "bearer in lower case": {"Authorization": f"bearer {decisions}"},
        "a malformed key": {"Authorization": "Bearer nonsense"},
        "a wrong secret": {"Authorization": f"Bearer credo_{key_id}_not-the-secret"},
        "a key without the scope": _known(world, "reports"),
    }


def test_refused_keys_answer_as_the_full_stack(
    world: World, lean: TestClient, full: TestClient
) -> None:
    _known(world, "decisions")
    for case, headers in _key_cases(world).items():
        mine, theirs = _both(lean, full, json=_ask(world), headers=headers)
        assert mine == theirs, case
        assert mine[0] in (401, 403, 404), (case, mine)


def test_bad_bodies_answer_as_the_full_stack(
    world: World, lean: TestClient, full: TestClient
) -> None:
    headers = {**_known(world, "decisions"), "Content-Type": "application/json"}
    ok = _ask(world)
    bodies: dict[str, bytes] = {
        "empty": b"",
        "not JSON": b"{",
        "not an object": b"[1, 2]",
        "a field missing": json.dumps({"person": world.person, "product": "car_rental"}).encode(),
        "an extra field": json.dumps({**ok, "score": 900}).encode(),
        "an id too long": json.dumps({**ok, "person": "p" * 101}).encode(),
        "a number for an id": json.dumps({**ok, "person": 5}).encode(),
        "an unknown check": json.dumps(
            {**ok, "identity_verification": {"method": "guess", "reference": "r"}}
        ).encode(),
        "not UTF-8": b'{"person": "\xff"}',
        "nested past the parser's limit": b"[" * 10_000,
    }
    for case, content in bodies.items():
        mine, theirs = _both(lean, full, content=content, headers=headers)
        assert mine == theirs, case
        assert mine[0] == 422, (case, mine)


def test_bodies_over_the_limit_answer_as_the_full_stack(
    world: World, lean: TestClient, full: TestClient
) -> None:
    headers = {**_known(world, "decisions"), "Content-Type": "application/json"}
    limit = world.client.app.body_limit  # type: ignore[attr-defined]
    padded = json.dumps({**_ask(world), "pad": "x" * limit}).encode()
    mine, theirs = _both(lean, full, content=padded, headers=headers)
    assert mine == theirs and mine[0] == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is met while reading
        for i in range(0, len(padded), 64 * 1024):
            yield padded[i : i + 64 * 1024]

    mine = _answer(lean.post("/v1/decisions", content=chunks(), headers=headers))
    theirs = _answer(full.post("/v1/decisions", content=chunks(), headers=headers))
    assert mine == theirs and mine[0] == 413


def _refusals(svc: Service) -> list[tuple[str, str]]:
    rows = svc.run(
        lambda: svc.store.con.execute(
            "SELECT details->>'route', details->>'reason' FROM audit_log"
            " WHERE action = 'access.refused' ORDER BY seq"
        ).fetchall()
    )
    return [(str(route), str(reason)) for route, reason in rows]


def test_refused_decisions_answer_and_are_audited_as_the_full_stack(
    world: World, lean: TestClient, full: TestClient
) -> None:
    svc: Service = world.client.app.state.service  # type: ignore[attr-defined]
    headers = _known(world, "decisions")
    consent = world.grant("rental")
    cases = {
        "no such consent": _ask(world),
        "no such product": _ask(world, consent, product="space_travel"),
        "no such person": {**_ask(world, consent), "person": "nobody"},
        "another person's consent": {**_ask(world, consent), "person": world.other},
        "a frozen file": _ask(world, consent),
    }
    for case, ask in cases.items():
        if case == "a frozen file":
            svc.run(freeze, svc.store, world.person)
        before = _refusals(svc)
        mine = _answer(lean.post("/v1/decisions", json=ask, headers=headers))
        after = _refusals(svc)
        # the first refusal of its kind is audited before the answer, naming the route (0620)
        reason = mine[2]["error"]["message"]
        if mine[0] in (403, 404, 423) and reason not in {r for _, r in before}:
            assert after == [*before, ("/v1/decisions", reason)], case
        theirs = _answer(full.post("/v1/decisions", json=ask, headers=headers))
        assert mine == theirs, case
        assert mine[0] >= 400, (case, mine)
    assert mine[0] == 423


def test_an_over_long_body_is_read_no_further_than_by_the_full_stack(world: World) -> None:
    """Chunks pulled before the 413: the lean path must not hold more of a body than the
    limit, as ``BodyLimit`` does not."""
    app = world.client.app
    assert isinstance(app, CredoApp)
    headers = [(b"authorization", _known(world, "decisions")["Authorization"].encode())]
    chunk = b"x" * (64 * 1024)

    async def drive(target: Any) -> tuple[int, list[Any]]:
        pulled = 0
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            nonlocal pulled
            pulled += 1
            return {"type": "http.request", "body": chunk, "more_body": pulled < 1000}

        async def send(message: Any) -> None:
            sent.append(dict(message))

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/v1/decisions",
                 "raw_path": b"/v1/decisions", "root_path": "", "query_string": b"",
                 "headers": headers, "client": ("127.0.0.1", 1), "server": ("t", 80)}  # fmt: skip
        await target(scope, receive, send)
        return pulled, sent

    mine, theirs = asyncio.run(drive(app)), asyncio.run(drive(app.stack))
    assert mine == theirs
    assert mine[1][0]["status"] == 413 and mine[0] == app.body_limit // len(chunk) + 1


def test_a_failed_commit_answers_500_as_the_full_stack(
    world: World, lean: TestClient, full: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc: Service = world.client.app.state.service  # type: ignore[attr-defined]
    headers = _known(world, "decisions")
    consent = world.grant("rental")

    def broken(asks: list[Any]) -> list[Any]:
        raise RuntimeError("the disk is gone")

    # a fault in the writer thread: the batch fails, every request of it gets the error
    monkeypatch.setattr(svc.decisions, "_decide_many", broken)
    mine, theirs = _both(lean, full, json=_ask(world, consent), headers=headers)
    assert mine == theirs
    assert mine[0] == 500 and mine[2]["error"]["type"] == "InternalError"
