"""SPEC S6/S10's case over a real uvicorn server on 127.0.0.1: a person listed by a court paid
the judgment but the payment was not recorded; a flight booking is declined; the person
disputes with the receipt; the operator verifies; the listing is corrected and re-scored at
once; the next booking succeeds; the partner that declined is notified by webhook."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from support import free_port

from credo.api import create_app
from credo.client import verify_signature
from credo.ingest.events import CourtJudgmentEvent
from credo.rights import append_event
from credo.scoring import rescore_person
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store

from .conftest import ADMIN, END, api_settings, scored_persons


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            inbox.messages.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Keep the test output quiet: requests are asserted on, not logged."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/credo", inbox
    server.shutdown()
    server.server_close()


@pytest.fixture
def listed(db: Path) -> tuple[Path, str]:
    """A well-scored person listed by a court in June (the payment in August never recorded)."""
    person = scored_persons(db, 1)[0]
    with Store.open(Settings(db=db)) as store:
        listing = CourtJudgmentEvent(
            source_record_id="(2026)京0105执1234",
            occurred_at=dt.datetime(2026, 6, 1),
            court="北京市朝阳区人民法院",
            case_number="(2026)京0105执1234",
            amount=Decimal("8000.00"),
            listed_on=dt.date(2026, 6, 1),
            judgment_status="listed",
            dishonest_conduct="违反财产报告制度",
            basis_document="(2025)京0105民初1号",
            obligation="偿还借款本金8000.00元",
        )
        with store.write(AuditEntry("court_feed", "ingest")) as con:
            append_event(
                con, listing, source="court_list", person_id=person, recorded_at=dt.datetime.now()
            )
        rescore_person(store, person, END)
    return db, person


@pytest.fixture
def server(listed: tuple[Path, str]) -> Iterator[tuple[str, str, Path]]:
    db, person = listed
    port = free_port()
    app = create_app(Settings(db=db), api_settings(background_seconds=0.2))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", person, db
    srv.should_exit = True
    thread.join(10)


ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def airline_and_person(
    c: httpx.Client, webhook: str, person: str
) -> tuple[dict[str, Any], dict[str, str], dict[str, str], dict[str, str]]:
    """Sky Air with a webhook and a decisions key; the person signed in, consenting to travel
    decisions: (partner as created, partner headers, person headers, a flight booking)."""
    p: dict[str, Any] = c.post(
        "/admin/partners",
        json={"partner_id": "skyair", "name": "Sky Air", "webhook_url": webhook},
        headers=ADMIN_HEADERS,
    ).json()
    key = c.post(
        "/admin/partners/skyair/keys", json={"scopes": ["decisions"]}, headers=ADMIN_HEADERS
    )
    partner = {"Authorization": f"Bearer {key.json()['key']}"}
    code = c.post(f"/admin/persons/{person}/login-codes", headers=ADMIN_HEADERS).json()["code"]
    token = c.post("/v1/me/session", json={"person": person, "code": code}).json()["token"]
    me = {"Authorization": f"Bearer {token}"}
    consent = c.post(
        "/v1/me/consents",
        json={"action": "grant", "partner": "skyair", "purpose": "travel"},
        headers=me,
    ).json()["consent_id"]
    return p, partner, me, {"person": person, "product": "flights", "consent": consent}


def declined_while_listed(
    c: httpx.Client, booking: dict[str, str], partner: dict[str, str]
) -> dict[str, Any]:
    """The flight is declined because of the listing, at a capped score."""
    declined: dict[str, Any] = c.post("/v1/decisions", json=booking, headers=partner).json()
    assert declined["outcome"] == "declined"
    assert declined["reasons"][0]["code"] == "court_list"
    assert declined["score"] <= 549
    return declined


def first_message(inbox: Inbox) -> tuple[dict[str, str], bytes]:
    """The first webhook delivered to the inbox, waiting up to 15 seconds for it."""
    deadline = time.monotonic() + 15
    while not inbox.messages:
        assert time.monotonic() < deadline, "no webhook delivered"
        time.sleep(0.1)
    return inbox.messages[0]


def test_wrongly_listed_person_disputes_and_flies(
    server: tuple[str, str, Path], webhook_server: tuple[str, Inbox]
) -> None:
    base, person, _ = server
    url, inbox = webhook_server
    with httpx.Client(base_url=base, timeout=30) as c:
        p, partner, me, booking = airline_and_person(c, url, person)
        declined = declined_while_listed(c, booking, partner)

        file = c.get("/v1/me/file", headers=me).json()
        listing = next(e for e in file["events"] if e["source_record_id"] == "(2026)京0105执1234")
        dispute = c.post(
            "/v1/me/disputes",
            json={"event_id": listing["event_id"], "statement": "I paid the judgment in full",
                  "evidence": "bank receipt 2026-08-15, ¥8000 to the court's account"},
            headers=me,
        ).json()  # fmt: skip
        assert dispute["status"] == "open"
        # Shown as disputed to partners at once.
        pending = c.post("/v1/decisions", json=booking, headers=partner).json()
        assert [d["dispute_id"] for d in pending["disputed_items"]] == [dispute["dispute_id"]]

        resolved = c.post(
            f"/admin/disputes/{dispute['dispute_id']}/resolve",
            json={"decision": "correct", "amendment": {"judgment_status": "satisfied",
                  "satisfied_on": "2026-08-15"}, "note": "receipt verified with the court"},
            headers=ADMIN_HEADERS,
        ).json()  # fmt: skip
        assert resolved["status"] == "corrected" and resolved["rescored_run_id"]
        assert resolved["notified"] == ["skyair"]

        approved = c.post("/v1/decisions", json=booking, headers=partner).json()
        assert approved["outcome"] == "approved", approved
        assert approved["run_id"] == resolved["rescored_run_id"]
        assert approved["score"] > declined["score"] and approved["disputed_items"] == []

        feed = c.get("/v1/me/feed", headers=me).json()
        assert {"inquiry", "listing"} <= {a["kind"] for a in feed}
        if approved["score"] - declined["score"] >= 20:
            assert "score_change" in {a["kind"] for a in feed}

    headers, body = first_message(inbox)
    expected = hmac.new(p["webhook_secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-credo-signature"] == f"sha256={expected}"
    # what docs/partners.md tells a partner to run on each notice
    assert verify_signature(body, headers["x-credo-signature"], p["webhook_secret"])
    assert not verify_signature(body + b" ", headers["x-credo-signature"], p["webhook_secret"])
    assert not verify_signature(body, headers["x-credo-signature"], "another secret")
    notice = json.loads(body)
    assert notice["type"] == "correction" and notice["person"] == person
    assert declined["decision_id"] in notice["affected"]
    svc_rows = inbox.messages[1:]
    assert all(json.loads(b)["message_id"] != notice["message_id"] for _, b in svc_rows)
