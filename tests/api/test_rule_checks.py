"""Rules whose test had no rule id yet (docs/rules.md): the file's inquiries (R-FCRA-1), free
disclosures (R-FCRA-2, R-CRR-2), the security freeze (R-FCRA-15), inquiries never scored
(R-FCRA-14), and the explanation and human route of PIPL Art. 24 (R-PIPL-1), through the HTTP
API over the session's scored population where a person is involved."""

from __future__ import annotations

import datetime as dt
import re

from credo.features import CATALOGUE, features_sql
from credo.features.pit import PointInTime
from credo.policy.rules import load_rules

from .conftest import World


def _decide(world: World, consent: str) -> int:
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    return r.status_code


def _report(world: World, purpose: str = "tenancy") -> int:
    path = f"/v1/reports/{world.person}?purpose={purpose}"
    return world.client.get(path, headers=world.as_partner("reports")).status_code


def test_R_FCRA_1_the_file_lists_every_inquiry_with_the_requesters_full_name(
    world: World,
) -> None:
    consent = world.grant("rental")
    world.grant("tenancy")
    assert _decide(world, consent) == 200 and _report(world) == 200
    inquiries = world.client.get("/v1/me/file", headers=world.session).json()["inquiries"]
    seen = [(i["partner_name"], i["kind"], i["purpose"]) for i in inquiries]
    assert ("Sky Air", "decision", "rental") in seen and ("Sky Air", "report", "tenancy") in seen
    assert len(inquiries) == 2 and all(i["at"] for i in inquiries)


def test_R_FCRA_15_a_freeze_blocks_the_very_next_release_and_lifting_it_frees_the_next(
    world: World,
) -> None:
    c = world.client
    consent = world.grant("rental")
    world.grant("tenancy")
    assert c.put("/v1/me/freeze", headers=world.session).status_code == 200
    # Placed within the request that asked (FCRA: 1 business day): the next release is refused.
    assert _decide(world, consent) == 423 and _report(world) == 423
    assert c.delete("/v1/me/freeze", headers=world.session).status_code == 200
    # Lifted within the request too (FCRA: 1 hour).
    assert _decide(world, consent) == 200 and _report(world) == 200


def test_R_PIPL_1_the_person_gets_an_explanation_and_can_refuse_a_purely_automated_decision(
    world: World,
) -> None:
    c = world.client
    consent = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    decision = c.post("/v1/decisions", json=body, headers=world.as_partner("decisions")).json()
    held = c.get("/v1/me/file", headers=world.session).json()
    explained = held["points_table"]  # the explanation: each feature's value, bin and points
    assert explained and all(f["description"] and f["bin"] is not None for f in explained)
    asked = c.post("/v1/me/reviews", headers=world.session,
                   json={"decision_id": decision["decision_id"],
                         "statement": "I refuse a decision made by machine alone"})  # fmt: skip
    assert asked.status_code == 201
    queue = c.get("/admin/reviews", params={"status": "open"}, headers=world.admin).json()
    assert [q["decision_id"] for q in queue] == [decision["decision_id"]]


def _files(world: World, times: int) -> list[int]:
    return [world.client.get("/v1/me/file", headers=world.session).status_code
            for _ in range(times)]  # fmt: skip


def test_R_FCRA_2_the_file_is_free_and_immediate_more_often_than_once_a_year(
    world: World,
) -> None:
    # The law's floor is one free disclosure in 12 months, within 15 days; Credo gives the file
    # at once, free, every time: no quota to refuse the second.
    assert load_rules("us-fcra").reports.free_per_year == 1
    assert _files(world, 3) == [200, 200, 200]


def test_R_CRR_2_two_free_reports_a_year_are_always_given(world: World) -> None:
    assert load_rules("cn-crr").reports.free_per_year == 2
    assert _files(world, 3) == [200, 200, 200]


def test_R_FCRA_14_inquiries_never_enter_the_score_so_no_fifth_factor_is_owed() -> None:
    """The 5th "inquiries" factor is owed only when inquiries affect the score. No feature reads
    them: if one ever does, this fails, and the notice must add the 5th factor."""
    assert not [f.name for f in CATALOGUE if "inquir" in f.name.lower()]
    sql = features_sql(PointInTime(dt.date(2026, 10, 31), dt.datetime(2026, 11, 1), 7))
    assert not re.search(r"\binquiries\b", sql)
