"""A server killed mid-load (SIGKILL) loses no acknowledged decision and no audit entry.

``credo serve`` runs in a child process; 8 asyncio clients post decisions until the server is
killed, then it restarts on the same database (replaying the decision journal it left) and
answers again. Every decision a client got a 2xx for must be stored, with one audit entry
each, and the hash chain must verify. ``benchmarks/api/run.py`` runs the same test at a larger
scale.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from credo.access import create_key, create_partner
from credo.rights import record_consent
from credo.settings import Settings
from credo.store import audit
from credo.store.db import Store
from credo.store.journal import journal_path

from .conftest import ADMIN, scored_persons

pytestmark = pytest.mark.slow


@contextmanager
def server(db: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "CREDO_API_ADMIN_TOKEN": ADMIN,
        "CREDO_API_BACKGROUND_SECONDS": "0",
        # every acknowledged decision stays in the journal until the kill: the restart must
        # replay it (docs/decisions/0612)
        "CREDO_API_JOURNAL_APPLY_EVERY": "1000000",
        "CREDO_API_JOURNAL_APPLY_SECONDS": "3600",
    }
    cmd = [sys.executable, "-m", "credo", "serve", "--db", str(db), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a bound on a hang, not a speed: CI may be busy
        while True:
            assert proc.poll() is None, f"credo serve exited with {proc.returncode}"
            assert time.monotonic() < deadline, "credo serve did not start in 120 s"
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.kill()  # SIGKILL, also on the way out of a passing test
        proc.wait(timeout=10)


async def post_decisions(
    url: str,
    key: str,
    bodies: list[dict[str, str]],
    *,
    limit: int,
    kill: float | None = None,
    proc: subprocess.Popen[bytes] | None = None,
) -> list[str]:
    """Decision ids answered 2xx; with ``kill``, ``proc`` gets SIGKILL after that many seconds."""
    acked: list[str] = []
    sent = 0
    deadline = time.monotonic() + 15

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < limit and time.monotonic() < deadline:
            body = bodies[sent % len(bodies)]
            sent += 1
            try:
                r = await c.post("/v1/decisions", json=body)
            except httpx.TransportError:
                return  # the server is gone; this request may or may not have committed
            assert r.status_code == 200, r.text
            acked.append(r.json()["decision_id"])

    if kill is not None and proc is not None:
        asyncio.get_running_loop().call_later(kill, proc.send_signal, signal.SIGKILL)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as c:
        await asyncio.gather(*(client(c) for _ in range(8)))
    return acked


def test_sigkill_mid_load_loses_no_acknowledged_decision(db: Path) -> None:
    persons = scored_persons(db, 8)
    with Store.open(Settings(db=db)) as store:
        create_partner(store, "skyair", "Sky Air")
        key = create_key(store, "skyair", ["decisions"]).key
        assert key is not None
        bodies = [
            {"person": p, "product": "car_rental",
             "consent": record_consent(store, p, "grant", partner="skyair",
                                       purpose="rental").consent_id}
            for p in persons
        ]  # fmt: skip

    with server(db) as (url, proc):
        before = asyncio.run(post_decisions(url, key, bodies, limit=5_000, kill=1.5, proc=proc))
        assert proc.wait(timeout=10) == -signal.SIGKILL  # killed mid-load, not run out of work
    assert any(p.stat().st_size for p in journal_path(db).glob("*.log"))
    with server(db) as (url, _):  # the restart replays the decision journal
        after = asyncio.run(post_decisions(url, key, bodies, limit=20))

    assert before and len(after) == 20
    with Store.open(Settings(db=db), create=False) as store:
        stored = {r[0] for r in store.con.execute("SELECT decision_id FROM decisions").fetchall()}
        entries = store.scalar("SELECT count(*) FROM audit_log WHERE action = 'decision'")
        chain = audit.verify(store.con)
    assert set(before) | set(after) <= stored
    assert len(stored) == entries
    assert chain.ok, chain.problem
