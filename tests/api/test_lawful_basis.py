"""RULES R-GDPR-6a (SCHUFA, C-634/21): issuing a score is itself an Art. 22 decision, so the
scoring layer checks its lawful basis. A person is scored only while enrolled (their consent):
once they leave, neither the monthly run nor an off-cycle re-score scores them, and no partner
gets a decision on the old score; enrolling again restores both."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.errors import NotFoundError
from credo.scoring import rescore_person, score

from .conftest import World

NEXT = dt.date(2026, 12, 31)  # the first month-end after the person's choice


def _consent(world: World, action: str) -> None:
    r = world.client.post("/v1/me/consents", json={"action": action}, headers=world.session)
    assert r.status_code == 201, r.text


def test_R_GDPR_6a_no_score_is_issued_without_a_lawful_basis(world: World) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    consent = world.grant("rental")
    _consent(world, "leave")
    with pytest.raises(NotFoundError, match="not an enrolled, active person"):
        svc.run(rescore_person, svc.store, world.person, NEXT)
    run = svc.run(score, svc.store, NEXT)
    scored = svc.run(svc.store.con.execute, "SELECT person_id FROM score_snapshots"
                     " WHERE run_id = ?", [run.run_id]).fetchall()  # fmt: skip
    persons = {p for (p,) in scored}
    assert world.other in persons and world.person not in persons
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    refused = c.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    assert refused.status_code == 403, refused.text  # leaving revoked the grant: no decision

    _consent(world, "enrol")
    again = svc.run(rescore_person, svc.store, world.person, NEXT)
    assert again.persons == 1
    world.grant("rental")
