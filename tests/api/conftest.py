"""A small scored population (generated, loaded, linked from truth, trained, scored once per
session), copied into each test's database; an app over it with a partner, keys and a person."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from scoring.truth import link_from_truth
from support import free_port

from credo.api import ApiSettings, create_app
from credo.api.protocol import CredoHttp
from credo.client import AdminClient, PartnerClient, Scope
from credo.ingest.batch import ingest_population
from credo.scoring import score, train_model
from credo.settings import Settings
from credo.sim import generate
from credo.store.db import Store

END = dt.date(2026, 10, 31)
ADMIN = "a" * 40


@pytest.fixture(scope="session")
def scored_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("service")
    generate(300, 24, 5, root / "pop", END)
    db = root / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, root / "pop", max_reject_rate=0.01)
        link_from_truth(store, root / "pop")
        train_model(store, dt.date(2025, 10, 31))
        score(store, END)
        store.con.execute("CHECKPOINT")
    return db


@pytest.fixture
def db(scored_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "credo.duckdb"
    shutil.copy(scored_db, target)
    shutil.copy(scored_db.with_suffix(".key"), target.with_suffix(".key"))
    return target


def api_settings(**extra: Any) -> ApiSettings:
    values: dict[str, Any] = {"admin_token": ADMIN, "background_seconds": 0, **extra}
    return ApiSettings(**values)


@dataclass
class World:
    client: TestClient
    admin: dict[str, str]
    partner: str
    keys: dict[str, str]  # scope -> key with only that scope
    person: str
    other: str
    session: dict[str, str]  # the person's auth header

    def as_partner(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def partner_api(self, scope: str) -> PartnerClient:
        """The shipped client (``credo.client``) with the key of this one scope."""
        return PartnerClient(key=self.keys[scope], http=self.client)

    @property
    def operator(self) -> AdminClient:
        return AdminClient(token=ADMIN, http=self.client)

    def grant(self, purpose: str, partner: str | None = None) -> str:
        r = self.client.post(
            "/v1/me/consents",
            json={"action": "grant", "partner": partner or self.partner, "purpose": purpose},
            headers=self.session,
        )
        assert r.status_code == 201, r.text
        consent_id: str = r.json()["consent_id"]
        return consent_id


def sign_in(client: TestClient, admin: dict[str, str], person: str) -> dict[str, str]:
    code = client.post(f"/admin/persons/{person}/login-codes", headers=admin).json()["code"]
    r = client.post("/v1/me/session", json={"person": person, "code": code})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def scored_persons(db: Path, n: int = 2) -> list[str]:
    with Store.open(Settings(db=db)) as store:
        rows = store.con.execute(
            "SELECT person_id FROM score_snapshots WHERE NOT not_enough_history"
            " AND len(court_listings) = 0 ORDER BY score DESC, person_id LIMIT ?",
            [n],
        ).fetchall()
    return [r[0] for r in rows]


def make_world(client: TestClient, person: str, other: str, webhook: str | None = None) -> World:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    operator = AdminClient(token=ADMIN, http=client)
    assert operator.add_partner("skyair", "Sky Air", webhook)["webhook_secret"]
    scopes: tuple[Scope, ...] = ("decisions", "reports", "outcomes")
    keys = {scope: operator.create_key("skyair", [scope])["key"] for scope in scopes}
    return World(client, admin, "skyair", keys, person, other, sign_in(client, admin, person))


@pytest.fixture
def world(db: Path) -> Iterator[World]:
    person, other = scored_persons(db)
    with TestClient(create_app(Settings(db=db), api_settings())) as client:
        yield make_world(client, person, other)


@dataclass
class Live:
    """A real uvicorn server on 127.0.0.1 over a copy of the scored database, with the HTTP
    protocol ``credo serve`` runs."""

    base: str
    app: FastAPI
    db: Path
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Stop the server as a SIGINT would (the service closes, the database is free)."""
        self.server.should_exit = True
        self.thread.join(15)
        assert not self.thread.is_alive(), "the server did not stop"


@pytest.fixture
def live(db: Path) -> Iterator[Live]:
    app = create_app(Settings(db=db), api_settings())
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=CredoHttp)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    running = Live(f"http://127.0.0.1:{port}", app, db, server, thread)
    yield running
    if thread.is_alive():
        running.stop()
