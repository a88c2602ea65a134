"""What paused every decision in flight at 32 connections (docs/decisions/0965, 0966): the
journal moved into the database under the service's lock, which the decision writer needs,
and the collector's young generations walking the journal's rows ~150 times a second."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

from credo.access import create_partner
from credo.api.app import COLLECTOR_THRESHOLDS, create_app
from credo.api.service import Service
from credo.rights import record_consent
from credo.rights.decisions import Decision, DecisionInput
from credo.settings import Settings
from credo.store.audit import verify

from .conftest import World, api_settings, scored_persons


def test_service_run_moves_the_journal_before_it_takes_the_service_lock(db: Path) -> None:
    """Every batch the journal holds when ``Service.run`` starts is moved while the writer
    can still decide and journal (the service's lock free); the holder of the lock moves only
    what came after, and sees every acknowledged decision."""
    persons = scored_persons(db, 4)
    # the applier thread never moves anything by itself here: only Service.run does
    svc = Service(Settings(db=db), api_settings(journal_apply_seconds=3600.0))
    try:
        svc.run(create_partner, svc.store, "lockair", "Lock Air")
        grants = {
            p: svc.run(
                record_consent, svc.store, p, "grant", partner="lockair", purpose="rental"
            ).consent_id
            for p in persons
        }
        asks = [DecisionInput("lockair", p, "car_rental", grants[p]) for p in persons] * 5

        async def decide_all() -> list[Decision]:
            return list(await asyncio.gather(*(svc.decide(a) for a in asks)))

        decided = asyncio.run(decide_all())
        assert svc.store.journaled == len(asks)  # all of them still in the journal
        moved: list[tuple[int, bool]] = []
        apply = svc.store.apply_journal

        def watched(con: Any = None) -> None:
            moved.append((svc.store.journaled, svc.lock.locked()))
            apply(con)

        svc.store.apply_journal = watched  # type: ignore[method-assign]
        try:
            count = svc.run(
                lambda: svc.store.scalar("SELECT count(*) FROM decisions WHERE partner_id = ?",
                                         ["lockair"])
            )  # fmt: skip
        finally:
            del svc.store.apply_journal
        assert count == len(decided)
        assert moved[0] == (len(asks), False)  # the whole journal, the service's lock free
        assert all(n == 0 for n, locked in moved if locked)  # nothing left for the lock's holder
        assert svc.run(verify, svc.store.con).ok
    finally:
        svc.close()


def test_the_server_collects_young_objects_rarely_while_it_serves(world: World) -> None:
    """Decisions allocate and free; only the journal's rows pile up between moves. At
    Python's thresholds (700 new objects) a few dozen decisions set off collections; at the
    server's, none."""
    consent = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    headers = world.as_partner("decisions")
    seen: list[int] = []

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.collect()
    gc.callbacks.append(collected)
    try:
        for _ in range(200):
            assert world.client.post("/v1/decisions", json=body, headers=headers).status_code == 200
    finally:
        gc.callbacks.remove(collected)
    assert seen == []
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS


def test_thresholds_are_restored_when_the_server_stops(db: Path) -> None:
    from fastapi.testclient import TestClient

    before, switch = gc.get_threshold(), sys.getswitchinterval()
    with TestClient(create_app(Settings(db=db), api_settings())):
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS
        assert sys.getswitchinterval() == 0.001  # the writer waits at most 1 ms for the GIL
    assert gc.get_threshold() == before
    assert sys.getswitchinterval() == switch
