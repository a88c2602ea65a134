"""Partner jurisdictions (decision 0648): a partner registered under a rules profile gets that
profile for its requests, whatever the installation's: report purposes, the figures its
adverse-action notices state, the clock of a dispute of an item it furnished, the deadline of
a review of its decision. A partner without one follows the installation's profile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from support import cli_json, run_cli

from credo.api import create_app
from credo.ingest.events import BillEvent
from credo.policy.schema import policy_dirs
from credo.rights.audited import append_event
from credo.rights.disputes import add_evidence, open_dispute
from credo.settings import Settings
from credo.store.audit import AuditEntry

from .conftest import World, api_settings, make_world, scored_persons
from .test_notices import _low_scorer

OPENED = dt.datetime(2026, 11, 2, 9, 0)
US_ADDRESS = "1 Bank Plaza, Wilmington, DE 19801"
US_AGENCY = "Consumer Financial Protection Bureau, 1700 G Street NW, Washington, DC 20552"


@pytest.fixture
def world(db: Path) -> Iterator[World]:
    person, _ = _low_scorer(db)
    other = scored_persons(db, 1)[0]
    with TestClient(create_app(Settings(db=db), api_settings())) as client:
        world = make_world(client, person, other)  # skyair: no jurisdiction of its own
        assert world.operator.add_partner(
            "usbank", "US Bank", jurisdiction="us-fcra", address=US_ADDRESS, agency=US_AGENCY
        )
        assert world.operator.add_partner("cnbank", "CN Bank", jurisdiction="cn-crr")
        for partner in ("usbank", "cnbank"):
            for scope in ("decisions", "reports"):
                world.keys[f"{partner}:{scope}"] = world.operator.create_key(partner, [scope])[
                    "key"
                ]
        yield world


def _headers(world: World, partner: str, scope: str) -> dict[str, str]:
    key = world.keys[scope] if partner == "skyair" else world.keys[f"{partner}:{scope}"]
    return {"Authorization": f"Bearer {key}"}


def _bike(world: World, partner: str) -> str:
    consent = world.grant("rental", partner)
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=_headers(world, partner, "decisions"))
    assert r.status_code == 200, r.text
    return str(r.json()["decision_id"])


def test_R_FCRA_13_a_partners_notice_states_its_own_jurisdictions_figures(world: World) -> None:
    made = {p: _bike(world, p) for p in ("skyair", "usbank", "cnbank")}
    notices = world.client.get("/v1/me/notices", headers=world.session).json()
    rights = {n["partner"]: " ".join(n["rights"]) for n in notices}
    assert {n["decision_id"] for n in notices} == set(made.values())
    assert "checked within 30 days" in rights["usbank"]  # FCRA: 30 days
    assert "checked within 20 days" in rights["cnbank"]  # China: 20 days
    assert "checked within 20 days" in rights["skyair"]  # the installation's: the strictest


def test_R_CRR_3_a_dispute_of_an_item_runs_on_its_furnishers_clock(world: World, db: Path) -> None:
    svc = world.client.app.state.service  # type: ignore[attr-defined]

    def item(source: str) -> int:
        bill = BillEvent(source_record_id=f"{source}-B1", occurred_at=dt.datetime(2026, 9, 1),
                         bill_kind="utility", amount=Decimal("80.00"),
                         due_date=dt.date(2026, 9, 10))  # fmt: skip
        with svc.store.write(AuditEntry("test", "ingest")) as con:
            return append_event(con, bill, source=source, person_id=world.person,
                                recorded_at=dt.datetime(2026, 11, 1))  # fmt: skip

    def days(source: str) -> tuple[int, int]:
        d = svc.run(open_dispute, svc.store, world.person, item(source), "not mine", now=OPENED)
        later = OPENED + dt.timedelta(days=5)
        extended = svc.run(add_evidence, svc.store, world.person, d.dispute_id, "receipt",
                           now=later)  # fmt: skip
        return (d.due_at - OPENED).days, (extended.due_at - OPENED).days

    assert days("partner:usbank") == (30, 45)  # FCRA: 30 days, +15 on new evidence
    assert days("partner:cnbank") == (20, 20)  # China: 20 days, no extension
    assert days("utility_co") == (20, 20)  # a file's item: the installation's profile


def test_R_FCRA_12_a_partners_report_purposes_are_its_jurisdictions(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local profile (./policies/rules) that permits credit transactions only.
    shipped = policy_dirs()[-1] / "rules" / "us-fcra.yaml"
    narrow = shipped.read_text("utf-8").replace("name: us-fcra", "name: xx-narrow")
    start, end = narrow.index("  purposes:"), narrow.index("  free_per_year:")
    narrow = narrow[:start] + "  purposes: [credit_transaction]\n" + narrow[end:]
    (tmp_path / "policies" / "rules").mkdir(parents=True)
    (tmp_path / "policies" / "rules" / "xx-narrow.yaml").write_text(narrow, "utf-8")
    monkeypatch.chdir(tmp_path)
    assert world.operator.add_partner(
        "narrow", "Narrow Co", jurisdiction="xx-narrow", address=US_ADDRESS, agency=US_AGENCY
    )
    world.keys["narrow:reports"] = world.operator.create_key("narrow", ["reports"])["key"]
    for partner in ("narrow", "usbank"):
        world.grant("tenancy", partner)
    path = f"/v1/reports/{world.person}?purpose=tenancy"
    refused = world.client.get(path, headers=_headers(world, "narrow", "reports"))
    assert refused.status_code == 422 and "permissible purpose" in refused.text
    assert world.client.get(path, headers=_headers(world, "usbank", "reports")).status_code == 200


def test_an_unknown_jurisdiction_is_refused_when_the_partner_is_registered(world: World) -> None:
    def add(partner: str, jurisdiction: str) -> httpx.Response:
        body = {"partner_id": partner, "name": partner.upper(), "jurisdiction": jurisdiction}
        return world.client.post("/admin/partners", headers=world.admin, json=body)

    r = add("x", "mars")
    assert r.status_code == 422 and "no rules profile" in r.text
    assert add("y", "../../etc").status_code == 422  # a name, never a path
    listed = {p["partner_id"]: p for p in world.operator.partners()}
    assert "x" not in listed and "y" not in listed
    assert (
        listed["usbank"]["jurisdiction"] == "us-fcra" and listed["skyair"]["jurisdiction"] is None
    )


def test_credo_partners_add_takes_a_jurisdiction(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    run_cli("init", db=db, check=True)
    made = cli_json("partners", "add", "usb", "US Bank", "--jurisdiction", "us-fcra",
                    "--address", US_ADDRESS, "--agency", US_AGENCY, db=db)  # fmt: skip
    assert made["jurisdiction"] == "us-fcra"
    (listed,) = cli_json("partners", "list", db=db)
    assert listed["jurisdiction"] == "us-fcra"
    bad = run_cli("partners", "add", "mars", "Mars Co", "--jurisdiction", "mars", db=db)
    assert bad.returncode != 0 and "no rules profile 'mars'" in bad.stderr
