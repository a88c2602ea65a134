"""Outcomes reported after the person revoked consent or froze the file are accepted and used
(issue 17, item 10a; docs/decisions/0622): they record an obligation the person entered under
consent, and a freeze stops reads of the file, not the truth of what is in it."""

from __future__ import annotations

from .conftest import World


def test_an_outcome_after_revocation_and_freeze_is_accepted_and_in_the_file(world: World) -> None:
    c = world.client
    consent = world.grant("rental")
    ask = {"person": world.person, "product": "car_rental", "consent": consent}
    decision = c.post("/v1/decisions", json=ask, headers=world.as_partner("decisions")).json()
    revoke = {"action": "revoke", "partner": world.partner, "purpose": "rental"}
    assert c.post("/v1/me/consents", json=revoke, headers=world.session).status_code == 201
    assert c.put("/v1/me/freeze", headers=world.session).status_code == 200
    # No new decision now: the revocation and the freeze hold for what is asked.
    assert c.post("/v1/decisions", json=ask, headers=world.as_partner("decisions")).status_code in (
        403,
        423,
    )
    outcome = {
        "person": world.person,
        "decision_id": decision["decision_id"],
        "event": {"event_type": "rental", "source_record_id": "R-after", "item": "car",
                  "occurred_at": "2026-11-20T10:00:00Z", "deposit": "waived",
                  "returned_on_time": False, "damage": False, "unpaid_amount": "300.00"},
    }  # fmt: skip
    r = c.post("/v1/outcomes", json=outcome, headers=world.as_partner("outcomes"))
    assert r.status_code == 201, r.text
    file = c.get("/v1/me/file", headers=world.session).json()
    ids = {e["event_id"] for e in file["events"]}
    assert r.json()["event_id"] in ids
