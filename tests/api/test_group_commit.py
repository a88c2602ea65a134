"""Decisions through the group-commit writer: batched, each durable and audited, and decided
from caches that the service's own writes through ``Service.run`` empty at once."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from credo.access import create_partner
from credo.api.service import Service
from credo.errors import CredoError, ForbiddenError, FrozenError
from credo.rights import freeze, record_consent, unfreeze
from credo.rights.decisions import Decision, DecisionInput, decide_many
from credo.settings import Settings
from credo.store.audit import verify

from .conftest import World, api_settings, scored_persons


def _decide(world: World, consent: str) -> int:
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    return r.status_code


def test_a_revoke_or_freeze_through_service_run_blocks_the_next_decision(world: World) -> None:
    svc: Service = world.client.app.state.service  # type: ignore[attr-defined]
    consent = world.grant("rental")
    assert _decide(world, consent) == 200  # the cache now holds consent, freeze and score
    svc.run(freeze, svc.store, world.person)
    assert _decide(world, consent) == 423
    svc.run(unfreeze, svc.store, world.person)
    assert _decide(world, consent) == 200
    svc.run(record_consent, svc.store, world.person, "revoke", partner="skyair", purpose="rental")
    assert _decide(world, consent) == 403
    again = svc.run(
        record_consent, svc.store, world.person, "grant", partner="skyair", purpose="rental"
    ).consent_id
    assert _decide(world, consent) == 403  # the old reference stays dead
    assert _decide(world, again) == 200


def _batchair_grants(svc: Service, persons: list[str]) -> dict[str, str]:
    """A partner, and each person's consent for it (rental)."""
    svc.run(create_partner, svc.store, "batchair", "Batch Air")
    return {
        p: svc.run(
            record_consent, svc.store, p, "grant", partner="batchair", purpose="rental"
        ).consent_id
        for p in persons
    }


def test_concurrent_decisions_commit_in_batches_each_with_its_audit_entry(db: Path) -> None:
    persons = scored_persons(db, 8)
    svc = Service(Settings(db=db), api_settings())
    try:
        grants = _batchair_grants(svc, persons)
        asks = [DecisionInput("batchair", p, "car_rental", grants[p]) for p in persons] * 10
        asks.append(DecisionInput("batchair", persons[0], "car_rental", "consent_wrong"))

        async def all_at_once() -> list[Decision | BaseException]:
            return await asyncio.gather(*(svc.decide(a) for a in asks), return_exceptions=True)

        results = asyncio.run(all_at_once())
        store = svc.run(lambda: svc.store)  # what the journal held is applied first
        assert isinstance(results[-1], ForbiddenError)
        decided = [r for r in results[:-1] if isinstance(r, Decision)]
        assert len(decided) == 80
        stored = store.con.execute(
            "SELECT decision_id, score, run_id FROM decisions WHERE partner_id = 'batchair'"
        ).fetchall()
        assert sorted(stored) == sorted((d.decision_id, d.score, d.run_id) for d in decided)
        logged = store.con.execute(
            "SELECT json_extract_string(details, '$.decision_id'), logged_at FROM audit_log"
            " WHERE action = 'decision' ORDER BY seq"
        ).fetchall()
        assert sorted(r[0] for r in logged) == sorted(d.decision_id for d in decided)
        assert len({r[1] for r in logged}) < 80  # batched: several decisions per commit
        assert store.scalar("SELECT count(*) FROM inquiries WHERE partner_id = 'batchair'") == 80
        assert verify(store.con).ok
    finally:
        svc.close()


def test_decide_many_refuses_asks_in_place_and_commits_the_rest(db: Path) -> None:
    from credo.policy.products import load_products
    from credo.store.db import Store

    person, other = scored_persons(db, 2)
    with Store.open(Settings(db=db)) as store:
        create_partner(store, "batchair", "Batch Air")
        ok = record_consent(store, person, "grant", partner="batchair", purpose="rental")
        frozen = record_consent(store, other, "grant", partner="batchair", purpose="rental")
        freeze(store, other)
        results: list[Decision | CredoError] = decide_many(
            store,
            [
                DecisionInput("batchair", person, "car_rental", ok.consent_id),
                DecisionInput("batchair", other, "car_rental", frozen.consent_id),
                DecisionInput("batchair", person, "car_rental", "consent_wrong"),
                DecisionInput("batchair", person, "bike_rental", ok.consent_id),
            ],
            load_products(),
        )
        assert [type(r).__name__ for r in results] == [
            "Decision", "FrozenError", "ForbiddenError", "Decision",
        ]  # fmt: skip
        assert isinstance(results[1], FrozenError)
        assert store.scalar("SELECT count(*) FROM decisions") == 2
        assert store.scalar("SELECT count(*) FROM audit_log WHERE action = 'decision'") == 2
        assert verify(store.con).ok


def test_decisions_stay_whole_while_the_journal_is_applied_and_the_store_is_read(
    db: Path,
) -> None:
    """A small ``journal_apply_every`` makes the applier thread move the journal into the
    database while decisions are journaled and ``Service.run`` reads and writes in between."""
    from credo.rights.file import person_file

    persons = scored_persons(db, 4)
    svc = Service(Settings(db=db), api_settings(journal_apply_every=3))
    try:
        grants = _batchair_grants(svc, persons)
        asks = [DecisionInput("batchair", p, "car_rental", grants[p]) for p in persons] * 50

        async def load() -> list[Decision]:
            async def read_while_deciding() -> int:
                seen = 0
                for _ in range(10):  # each applies the journal first, then reads the file
                    held = await asyncio.to_thread(svc.run, person_file, svc.store, persons[0])
                    seen = max(seen, len(held["inquiries"]))
                    await asyncio.sleep(0.005)
                return seen

            reader = asyncio.create_task(read_while_deciding())
            decided = []
            for i in range(0, len(asks), 8):
                decided += await asyncio.gather(*(svc.decide(a) for a in asks[i : i + 8]))
            assert await reader <= 50
            return decided

        decided = asyncio.run(load())
        store = svc.run(lambda: svc.store)
        assert store.journaled == 0
        stored = {r[0] for r in store.con.execute("SELECT decision_id FROM decisions").fetchall()}
        assert stored == {d.decision_id for d in decided} and len(stored) == 200
        assert store.scalar("SELECT count(*) FROM inquiries WHERE kind = 'decision'") == 200
        assert verify(store.con).ok
    finally:
        svc.close()


def test_service_locks_are_taken_in_one_order(db: Path) -> None:
    """A refused API key records its failure (an audit entry, which applies the journal) while
    ``Service.run`` calls come and go: both take the applier's lock before the service's, or
    the two would wait on each other for ever."""
    from credo.errors import AuthError

    svc = Service(Settings(db=db), api_settings())
    done: list[str] = []

    def refused_keys() -> None:
        for i in range(60):
            with contextlib.suppress(AuthError):  # unknown: refused, and the refusal audited
                svc.authenticate(f"credo_{i:010x}ab_not-a-secret")
        done.append("keys")

    def runs() -> None:
        for _ in range(200):
            svc.run(lambda: svc.store.scalar("SELECT count(*) FROM audit_log"))
        done.append("runs")

    threads = [threading.Thread(target=refused_keys, daemon=True),
               threading.Thread(target=runs, daemon=True)]  # fmt: skip
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(done) == ["keys", "runs"], "the service deadlocked"
    finally:
        if not any(t.is_alive() for t in threads):
            svc.close()
