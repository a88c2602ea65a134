"""Restriction and erasure through the HTTP API (RULES R-GDPR-4, R-GDPR-5, R-PIPL-4): a
restriction stops decisions and reports but keeps the data; an erasure asked by the person
leaves the audit chain whole and no trace of the person's name in the database file's bytes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from support import run_cli

from credo.ingest.events import CourtJudgmentEvent
from credo.rights.audited import append_event
from credo.store.audit import AuditEntry

from .conftest import World


def _names(world: World) -> list[str]:
    """The names the person's own records give, that no other person's record contains (a
    common name such as 王一 is in other files, and in 王一鸣's)."""
    svc = world.client.app.state.service  # type: ignore[attr-defined]
    found = svc.run(
        svc.store.con.execute,
        "SELECT DISTINCT e.name FROM events e JOIN event_persons p USING (event_id)"
        " WHERE p.person_id = ? AND p.role = 'subject' AND e.name IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM events o WHERE contains(o.name, e.name)"
        " AND o.event_id NOT IN (SELECT event_id FROM event_persons WHERE person_id = ?))",
        [world.person, world.person],
    ).fetchall()
    return [n for (n,) in found]


def _decide(world: World, consent: str) -> int:
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    return r.status_code


def test_R_GDPR_5_a_restriction_stops_decisions_and_reports_and_keeps_the_data(
    world: World,
) -> None:
    c = world.client
    consent = world.grant("rental")
    world.grant("tenancy")
    assert _decide(world, consent) == 200
    events = len(c.get("/v1/me/file", headers=world.session).json()["events"])

    r = c.put("/v1/me/restriction", headers=world.session)
    assert r.status_code == 200 and r.json() == {"restricted": True}
    refused = c.post("/v1/decisions", json={"person": world.person, "product": "bike_rental",
                     "consent": consent}, headers=world.as_partner("decisions"))  # fmt: skip
    assert refused.status_code == 423
    assert "restricted" in refused.json()["error"]["message"]
    report = c.get(f"/v1/reports/{world.person}?purpose=tenancy",
                   headers=world.as_partner("reports"))  # fmt: skip
    assert report.status_code == 423
    held = c.get("/v1/me/file", headers=world.session).json()
    assert held["restricted"] is True and len(held["events"]) == events  # the data is kept

    assert c.delete("/v1/me/restriction", headers=world.session).json() == {"restricted": False}
    assert _decide(world, consent) == 200


def test_R_GDPR_4_an_erasure_leaves_the_chain_whole_and_no_name_in_the_file(
    world: World, db: Path
) -> None:
    c = world.client
    consent = world.grant("rental")
    assert _decide(world, consent) == 200
    names = _names(world)
    assert names, "the chosen person has a name on file"
    before = db.read_bytes()
    assert any(n.encode() in before for n in names), "the name is in the file before erasure"

    r = c.post("/v1/me/erasure", headers=world.session)
    assert r.status_code == 201, r.text
    request = r.json()
    assert request["status"] == "done" and request["refused"] == []
    assert request["removed"]["events"] > 0 and request["removed"]["decisions"] == 1

    held = c.get("/v1/me/file", headers=world.session).json()
    assert held["events"] == [] and held["scores"] == [] and held["consents"] == []
    assert _decide(world, consent) == 403  # the consent went with the rest
    (mine,) = c.get("/v1/me/requests", headers=world.session).json()
    assert mine["request_id"] == request["request_id"]
    assert c.get("/admin/audit/verify", headers=world.admin).json()["ok"] is True
    again = c.post("/v1/me/erasure", headers=world.session)
    assert again.status_code == 409

    after = db.read_bytes()  # the server still holds the file: what a copy of it would hold
    assert [n for n in names if n.encode() in after] == []
    c.close()
    verified = run_cli("audit", "verify", "--json", db=db)
    assert verified.returncode == 0, verified.stderr
    assert [n for n in names if n.encode() in db.read_bytes()] == []


def test_R_PIPL_4_a_listing_in_force_is_kept_and_named_as_the_reason(world: World) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    listing = CourtJudgmentEvent(
        source_record_id="rec-erasure-hold",
        occurred_at=dt.datetime(2026, 6, 1),
        court="北京市朝阳区人民法院",
        case_number="(2026)京0105执77",
        amount=Decimal("8000.00"),
        listed_on=dt.date(2026, 6, 1),
        judgment_status="listed",
        dishonest_conduct="违反财产报告制度",
        basis_document="(2025)京0105民初1号",
        obligation="偿还借款本金8000.00元",
    )

    def add() -> int:
        with svc.store.write(AuditEntry("court_feed", "ingest")) as con:
            return append_event(con, listing, source="court_list", person_id=world.person,
                                recorded_at=dt.datetime(2026, 6, 2))  # fmt: skip

    held_id = svc.run(add)
    r = c.post("/v1/me/erasure", headers=world.session)
    assert r.status_code == 201, r.text
    request = r.json()
    assert request["status"] == "refused_in_part"
    (hold,) = request["refused"]
    assert hold["reason"] == "court_listing_in_force"
    assert (hold["case_number"], hold["event_ids"]) == ("(2026)京0105执77", [held_id])
    kept = c.get("/v1/me/file", headers=world.session).json()["events"]
    assert [e["event_id"] for e in kept] == [held_id]
    assert c.get("/admin/audit/verify", headers=world.admin).json()["ok"] is True
