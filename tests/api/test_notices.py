"""Adverse-action notices (RULES R-FCRA-13, R-FCRA-14, R-ECOA-3, R-ECOA-4) through the HTTP
API: a worse offer names the score's own factors after the product's rule, and the person finds
a notice in the feed and at ``/v1/me/notices`` with the partner, the factors, the score and
their rights, the bureau's and the creditor's contacts and the creditor's agency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from credo.api import create_app
from credo.client import AdminClient, CredoAPIError
from credo.settings import Settings
from credo.store.db import Store

from .conftest import ADMIN, World, api_settings, make_world, scored_persons, sign_in


def _low_scorer(db: Path) -> tuple[str, list[str]]:
    """A person below 650 (bike deposit), not listed, with at least one reason code."""
    with Store.open(Settings(db=db)) as store:
        person, codes = store.con.execute(
            "SELECT person_id, reason_codes FROM score_snapshots WHERE score < 650"
            " AND len(court_listings) = 0 AND NOT not_enough_history"
            " AND len(reason_codes) > 0 ORDER BY score, person_id LIMIT 1"
        ).fetchone() or (None, None)
    assert person is not None
    return person, list(codes)


@pytest.fixture
def low(db: Path) -> Iterator[tuple[World, list[str]]]:
    person, codes = _low_scorer(db)
    other = scored_persons(db, 1)[0]
    with TestClient(create_app(Settings(db=db), api_settings())) as client:
        yield make_world(client, person, other), codes


def _bike(world: World) -> dict[str, object]:
    consent = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    assert r.status_code == 200, r.text
    decision: dict[str, object] = r.json()
    return decision


def test_R_ECOA_4_adverse_reasons_name_factors_not_the_threshold_alone(
    low: tuple[World, list[str]],
) -> None:
    world, codes = low
    d = _bike(world)
    assert d["terms"] == {"deposit": 99}
    reasons = d["reasons"]
    assert isinstance(reasons, list)
    assert reasons[0] == {"code": "score", "text": "score below 650: ¥99 deposit"}
    assert [r["code"] for r in reasons[1:]] == codes[:4]
    assert all(r["text"] and r["text"] != r["code"] for r in reasons[1:])


def test_R_FCRA_13_a_worse_offer_gives_the_person_a_notice_with_their_rights(
    low: tuple[World, list[str]],
) -> None:
    world, _ = low
    d = _bike(world)
    notices = world.client.get("/v1/me/notices", headers=world.session).json()
    (notice,) = notices
    assert notice["decision_id"] == d["decision_id"]
    assert (notice["partner"], notice["partner_name"]) == ("skyair", "Sky Air")
    assert notice["rule"] == "score below 650: ¥99 deposit"
    rights = " ".join(notice["rights"])
    assert "Credo supplied the score and did not decide" in rights
    assert "free of charge within 60 days" in rights and "dispute" in rights
    feed = world.client.get("/v1/me/feed", headers=world.session).json()
    alert = next(a for a in feed if a["kind"] == "adverse_action")
    assert alert["ref"] == notice["notice_id"] and "Sky Air approved bike_rental" in alert["text"]


def test_R_FCRA_14_a_notice_has_at_most_4_factors_the_score_its_range_and_date(
    low: tuple[World, list[str]],
) -> None:
    world, codes = low
    d = _bike(world)
    (notice,) = world.client.get("/v1/me/notices", headers=world.session).json()
    assert 1 <= len(notice["key_factors"]) <= 4
    assert [f["code"] for f in notice["key_factors"]] == codes[:4]
    assert notice["score"] == d["score"] and notice["score_range"] == [350, 950]
    assert notice["scored_as_of"] and notice["decided_at"]


def test_the_best_offer_gives_no_notice(world: World) -> None:
    consent = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    d = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions")).json()
    assert d["terms"] == {"deposit": 0} and len(d["reasons"]) == 1
    assert world.client.get("/v1/me/notices", headers=world.session).json() == []


def test_R_ECOA_2_the_notice_of_action_is_there_as_the_decision_is_made(
    low: tuple[World, list[str]],
) -> None:
    world, _ = low
    d = _bike(world)
    (notice,) = world.client.get("/v1/me/notices", headers=world.session).json()
    # Derived from the decision itself, so never later than it: inside any action_days (30).
    assert notice["decision_id"] == d["decision_id"]
    at = dt.datetime.fromisoformat(str(d["decided_at"]).replace("Z", "+00:00"))
    assert dt.datetime.fromisoformat(notice["decided_at"]) == at


def test_R_ECOA_3_the_notice_states_the_bases_the_law_protects(
    low: tuple[World, list[str]],
) -> None:
    world, _ = low
    _bike(world)
    (notice,) = world.client.get("/v1/me/notices", headers=world.session).json()
    (statement,) = [r for r in notice["rights"] if r.startswith("the law forbids Sky Air")]
    for basis in ("race", "religion", "national origin", "sex", "marital status", "age",
                  "public assistance"):  # fmt: skip
        assert basis in statement


BUREAU = {"bureau_name": "Credo Bureau", "bureau_address": "2 Credit Way, Springfield, IL 62701",
          "bureau_phone": "1-800-555-0100"}  # fmt: skip
CREDITOR = {"address": "9 Runway Road, Newark, NJ 07114", "phone": "1-800-555-0199"}
AGENCY = "Consumer Financial Protection Bureau, 1700 G Street NW, Washington, DC 20552"


@pytest.fixture
def contacts(db: Path) -> Iterator[World]:
    """The low scorer, with the bureau's contact set and a partner registered under us-fcra
    with its address, phone and federal agency."""
    person, _ = _low_scorer(db)
    other = scored_persons(db, 1)[0]
    with TestClient(create_app(Settings(db=db, **BUREAU), api_settings())) as client:
        operator = AdminClient(token=ADMIN, http=client)
        with pytest.raises(CredoAPIError, match="field address"):
            operator.add_partner("skyair", "Sky Air", jurisdiction="us-fcra", agency=AGENCY)
        operator.add_partner("skyair", "Sky Air", jurisdiction="us-fcra", agency=AGENCY,
                             **CREDITOR)  # fmt: skip
        keys = {s: operator.create_key("skyair", [s])["key"] for s in ("decisions", "outcomes")}
        admin = {"Authorization": f"Bearer {ADMIN}"}
        yield World(client, admin, "skyair", keys, person, other, sign_in(client, admin, person))


def test_R_FCRA_13_the_notice_gives_the_bureaus_name_address_and_phone(
    contacts: World,
) -> None:
    _bike(contacts)
    (notice,) = contacts.client.get("/v1/me/notices", headers=contacts.session).json()
    assert notice["bureau"] == {"name": "Credo Bureau", "address": BUREAU["bureau_address"],
                                "phone": BUREAU["bureau_phone"]}  # fmt: skip
    first = notice["rights"][0]
    assert "Credo Bureau supplied the score and did not decide" in first
    assert BUREAU["bureau_address"] in first and BUREAU["bureau_phone"] in first


def test_R_ECOA_3_the_notice_names_the_creditors_address_and_its_federal_agency(
    contacts: World,
) -> None:
    """A partner under us-fcra cannot be registered without its address and agency; its
    notice gives the action, its name and address, the reasons, and the agency."""
    _bike(contacts)
    (notice,) = contacts.client.get("/v1/me/notices", headers=contacts.session).json()
    assert notice["creditor"] == {"name": "Sky Air", **CREDITOR}
    assert notice["agency"] == AGENCY and notice["outcome"] == "approved"
    assert notice["key_factors"] and notice["rule"] == "score below 650: ¥99 deposit"
    assert f"supervises Sky Air's compliance with this law: {AGENCY}" in notice["rights"][-1]
