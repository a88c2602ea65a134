"""Fraud and active-duty alerts (RULES R-FCRA-16): placed by the person, carried by every
decision and report while in force, ended on schedule or by the person; and the age check:
no decision or report about a minor."""

from __future__ import annotations

import datetime as dt

from credo.rights.fraud_alerts import alerts_in_force
from credo.store.audit import AuditEntry
from credo.store.schema import EVENT_TABLES

from .conftest import World


def _decide(world: World, consent: str) -> dict[str, object]:
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    assert r.status_code == 200, r.text
    answer: dict[str, object] = r.json()
    return answer


def _codes(decision: dict[str, object]) -> list[str]:
    return [r["code"] for r in decision["reasons"]]  # type: ignore[attr-defined, index]


def test_R_FCRA_16_an_alert_is_on_every_decision_and_report_and_expires_on_schedule(
    world: World,
) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    consent = world.grant("rental")
    world.grant("tenancy")
    plain = _decide(world, consent)
    bare = c.post("/v1/me/fraud-alerts", json={"kind": "extended"}, headers=world.session)
    assert bare.status_code == 422 and "report_reference" in bare.json()["error"]["message"]
    placed = c.post("/v1/me/fraud-alerts", json={"kind": "initial"}, headers=world.session)
    assert placed.status_code == 201, placed.text
    alert = placed.json()
    start = dt.datetime.fromisoformat(alert["placed_at"]).replace(tzinfo=None)
    assert dt.datetime.fromisoformat(alert["expires_at"]).replace(tzinfo=None) == (
        start + dt.timedelta(days=365)
    )

    alerted = _decide(world, consent)
    assert _codes(alerted) == [*_codes(plain), "fraud_alert"]  # the rule stays first
    report = c.get(f"/v1/reports/{world.person}?purpose=tenancy",
                   headers=world.as_partner("reports")).json()  # fmt: skip
    assert [a["code"] for a in report["alerts"]] == ["fraud_alert"]
    notices = c.get("/v1/me/notices", headers=world.session).json()
    assert alerted["decision_id"] not in [n["decision_id"] for n in notices] or (
        alerted["outcome"] == "declined"
    )  # an alert alone makes no decision adverse

    later = start + dt.timedelta(days=365, seconds=1)
    assert svc.run(alerts_in_force, svc.store, world.person, now=later) == []  # on schedule
    gone = c.delete(f"/v1/me/fraud-alerts/{alert['alert_id']}", headers=world.session)
    assert gone.status_code == 204
    assert _codes(_decide(world, consent)) == _codes(plain)


def test_a_minor_gets_no_decision_or_report(world: World) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    consent = world.grant("rental")
    world.grant("tenancy")
    assert _decide(world, consent)["outcome"]
    born = dt.date.today().replace(year=dt.date.today().year - 16)

    def make_minor() -> None:  # the records now say 16 years old: a data change, as a load
        with svc.store.write(AuditEntry("test", "birth dates")) as con:
            for table in EVENT_TABLES.values():
                con.execute(
                    f"UPDATE {table} SET birth_date = ? WHERE event_id IN (SELECT event_id"
                    " FROM event_persons WHERE person_id = ? AND role = 'subject')",
                    [born, world.person],
                )

    svc.run(make_minor)
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    refused = c.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    assert refused.status_code == 403 and "under 18" in refused.json()["error"]["message"]
    report = c.get(f"/v1/reports/{world.person}?purpose=tenancy",
                   headers=world.as_partner("reports"))  # fmt: skip
    assert report.status_code == 403
    assert c.get("/v1/me/file", headers=world.session).status_code == 200  # their own access


def test_R_FCRA_16_an_active_duty_alert_is_renewed_for_another_year(world: World) -> None:
    """The person renews their active-duty alert from its end; decisions keep carrying it
    past the first year; an initial alert is not renewed (it is placed again)."""
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    consent = world.grant("rental")
    duty = c.post("/v1/me/fraud-alerts", json={"kind": "active_duty"}, headers=world.session)
    assert duty.status_code == 201, duty.text
    alert = duty.json()
    first_end = dt.datetime.fromisoformat(alert["expires_at"]).replace(tzinfo=None)
    renewed = c.post(f"/v1/me/fraud-alerts/{alert['alert_id']}/renew", headers=world.session)
    assert renewed.status_code == 200, renewed.text
    second_end = dt.datetime.fromisoformat(renewed.json()["expires_at"]).replace(tzinfo=None)
    assert second_end == first_end + dt.timedelta(days=365)
    after_first = first_end + dt.timedelta(days=1)
    (kept,) = svc.run(alerts_in_force, svc.store, world.person, now=after_first)
    assert kept.alert_id == alert["alert_id"]
    assert svc.run(alerts_in_force, svc.store, world.person, now=second_end) == []
    assert "active_duty_alert" in _codes(_decide(world, consent))
    initial = c.post("/v1/me/fraud-alerts", json={"kind": "initial"}, headers=world.session)
    again = c.post(f"/v1/me/fraud-alerts/{initial.json()['alert_id']}/renew",
                   headers=world.session)  # fmt: skip
    assert again.status_code == 422 and "not renewed" in again.json()["error"]["message"]
    other = c.post("/v1/me/fraud-alerts/alr_nobody/renew", headers=world.session)
    assert other.status_code == 404
