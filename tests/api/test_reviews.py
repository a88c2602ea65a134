"""Human review (RULES R-GDPR-6, R-GDPR-6a, R-PIPL-1) through the HTTP API: the person asks for
a human to review a decision or the score itself; the request joins the operator's queue with
the profile's deadline; the outcome, with reasons, is recorded, shown to the person, audited."""

from __future__ import annotations

import datetime as dt

from credo.policy.rules import active_rules
from credo.store.audit import verify

from .conftest import World


def _decision(world: World) -> str:
    consent = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    decision_id: str = r.json()["decision_id"]
    return decision_id


def test_R_GDPR_6_a_decision_goes_to_a_human_who_records_the_outcome(world: World) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    decision_id = _decision(world)
    body = {"decision_id": decision_id, "statement": "my rent is always paid on time"}
    asked = c.post("/v1/me/reviews", json=body, headers=world.session)
    assert asked.status_code == 201, asked.text
    review = asked.json()
    days = active_rules(svc.store.settings).notices.request_response_days
    requested = dt.datetime.fromisoformat(review["requested_at"])
    assert dt.datetime.fromisoformat(review["due_at"]) == requested + dt.timedelta(days=days)
    again = c.post("/v1/me/reviews", json={"decision_id": decision_id, "statement": "again"},
                   headers=world.session)  # fmt: skip
    assert again.status_code == 409

    queue = c.get("/admin/reviews", params={"status": "open"}, headers=world.admin).json()
    assert [q["review_id"] for q in queue] == [review["review_id"]]
    done = c.post(f"/admin/reviews/{review['review_id']}/decide",
                  json={"outcome": "upheld", "note": "the deposit follows the score band"},
                  headers=world.admin)  # fmt: skip
    assert done.status_code == 200, done.text
    assert c.get("/admin/reviews", params={"status": "open"}, headers=world.admin).json() == []
    (mine,) = c.get("/v1/me/reviews", headers=world.session).json()
    assert mine["status"] == "upheld"
    assert mine["outcome_note"] == "the deposit follows the score band"
    twice = c.post(f"/admin/reviews/{review['review_id']}/decide",
                   json={"outcome": "changed", "note": "x"}, headers=world.admin)  # fmt: skip
    assert twice.status_code == 409

    logged = svc.run(
        svc.store.con.execute,
        "SELECT action FROM audit_log WHERE action LIKE 'review.%' ORDER BY seq",
    ).fetchall()
    assert [a for (a,) in logged] == ["review.request", "review.upheld"]
    assert svc.run(verify, svc.store.con).ok


def test_R_GDPR_6a_the_score_itself_can_be_contested_but_not_anothers_decision(
    world: World,
) -> None:
    c = world.client
    score = c.post("/v1/me/reviews", json={"statement": "the score misses my salary"},
                   headers=world.session)  # fmt: skip
    assert score.status_code == 201 and score.json()["decision_id"] is None
    other = c.post("/v1/me/reviews", json={"decision_id": "dec_not_mine", "statement": "x"},
                   headers=world.session)  # fmt: skip
    assert other.status_code == 404
    empty = c.post("/v1/me/reviews", json={"statement": "  "}, headers=world.session)
    assert empty.status_code == 422 and "field statement" in empty.text
