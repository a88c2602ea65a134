"""Fraud and active-duty alerts (RULES R-FCRA-16): placed by the person, carried by every
decision and report while in force, ended on schedule or by the person; and the age check:
no decision or report about a minor."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from credo.policy.rules import load_rules
from credo.rights.fraud_alerts import alert_referrals, alerts_in_force, export_referrals
from credo.rights.furnishers import add_business_days
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


def _loan(world: World, consent: str, check: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"person": world.person, "product": "large_loans", "consent": consent}
    if check is not None:
        body["identity_verification"] = check
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_R_FCRA_16_credit_under_an_alert_waits_for_the_partners_identity_check(
    world: World,
) -> None:
    """FCRA 605A(h): no credit is extended to a person with an alert unless the partner
    verified who they are, by calling the number the person gave when they gave one."""
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    consent = world.grant("credit_transaction")
    rental = world.grant("rental")
    plain = _loan(world, consent)
    assert plain["outcome"] == "approved" and plain["terms"]  # the best-scored person

    placed = c.post("/v1/me/fraud-alerts", json={"kind": "initial"}, headers=world.session)
    assert placed.status_code == 201, placed.text
    held = _loan(world, consent)
    assert (held["outcome"], held["terms"]) == ("verification_required", {})
    assert _codes(held)[-1] == "identity_verification_required"
    assert "identity_verification" in held["reasons"][-1]["text"]
    assert _decide(world, rental)["outcome"] == "approved"  # not credit: the alert is noted only

    check = {"method": "document", "reference": "passport seen, branch 12"}
    verified = world.partner_api("decisions").decide(world.person, "large_loans", consent, check)
    assert (verified["outcome"], verified["terms"]) == ("approved", plain["terms"])
    assert _codes(verified)[-2:] == ["fraud_alert", "identity_verified"]
    bad = c.post("/v1/decisions", json={"person": world.person, "product": "large_loans",
                 "consent": consent, "identity_verification": {"method": "guess",
                 "reference": "x"}}, headers=world.as_partner("decisions"))  # fmt: skip
    assert bad.status_code == 422

    # With a phone number given, only a call to that number verifies the person.
    c.delete(f"/v1/me/fraud-alerts/{placed.json()['alert_id']}", headers=world.session)
    refused = c.post("/v1/me/fraud-alerts", json={"kind": "initial", "phone": "call me"},
                     headers=world.session)  # fmt: skip
    assert refused.status_code == 422 and "phone" in refused.json()["error"]["message"]
    phoned = c.post("/v1/me/fraud-alerts", json={"kind": "initial", "phone": "+1 (555) 010-0199"},
                    headers=world.session)  # fmt: skip
    assert phoned.status_code == 201 and phoned.json()["phone"] == "+1 (555) 010-0199"
    held = _loan(world, consent, check)  # a document is not the call the person asked for
    assert held["outcome"] == "verification_required"
    assert "+1 (555) 010-0199" in held["reasons"][-1]["text"]
    wrong = {"method": "phone", "reference": "call 7", "phone": "+1 555 010 0100"}
    assert _loan(world, consent, wrong)["outcome"] == "verification_required"
    called = {"method": "phone", "reference": "call 8", "phone": "15550100199"}
    assert _loan(world, consent, called)["outcome"] == "approved"

    # A decision waiting for verification is no adverse action; the checks are on the record.
    notices = [n["decision_id"] for n in c.get("/v1/me/notices", headers=world.session).json()]
    assert held["decision_id"] not in notices
    checks = [
        json.loads(d)["identity_verification"]
        for (d,) in svc.store.con.execute(
            "SELECT details FROM audit_log WHERE action = 'decision'"
            " AND json_exists(details, '$.identity_verification') ORDER BY seq"
        ).fetchall()
    ]
    assert checks[0] == {**check, "phone_checked": False}
    assert checks[-1] == {"method": "phone", "reference": "call 8", "phone_checked": True}
    assert "0100199" not in json.dumps(checks)  # the number called is not in the audit chain


def test_R_FCRA_16_an_alert_is_referred_to_the_other_bureaus_in_an_audited_export(
    world: World, tmp_path: Path
) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    placed = c.post("/v1/me/fraud-alerts", json={"kind": "initial", "phone": "555 0100"},
                    headers=world.session)  # fmt: skip
    assert placed.status_code == 201, placed.text
    at = dt.datetime.fromisoformat(placed.json()["placed_at"]).replace(tzinfo=None)
    queued = c.get("/admin/alert-referrals", headers=world.admin).json()
    # the default profile is the strictest: every bureau any jurisdiction names
    assert (
        sorted(r["bureau"] for r in queued)
        == sorted(load_rules("us-fcra").fraud_alerts.refer_to)
        == ["equifax", "experian", "transunion"]
    )
    due = add_business_days(at, 1)
    for r in queued:
        assert r["alert_id"] == placed.json()["alert_id"] and r["overdue"] is False
        assert dt.datetime.fromisoformat(r["due_at"]).replace(tzinfo=None) == due
        assert world.person not in json.dumps(r["payload"])  # the queue holds no personal data
    late = svc.run(alert_referrals, svc.store, now=due + dt.timedelta(seconds=1))
    assert [r["overdue"] for r in late] == [True, True, True]

    sent = c.post("/admin/alert-referrals/experian/export",
                  headers={**world.admin, "X-Credo-Operator": "lin"})  # fmt: skip
    assert sent.status_code == 200, sent.text
    (payload,) = sent.json()["payloads"]
    assert (payload["type"], payload["kind"], payload["phone"]) == (
        "fraud_alert_referral", "initial", "555 0100")  # fmt: skip
    name = svc.store.scalar(
        "SELECT arg_max(e.name, e.occurred_at) FROM events e JOIN event_persons p"
        " ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE p.person_id = ? AND e.name IS NOT NULL",
        [world.person],
    )
    assert name and payload["person"]["name"] == name
    left = c.get("/admin/alert-referrals", headers=world.admin).json()
    assert sorted(r["bureau"] for r in left) == ["equifax", "transunion"]  # each leaves once
    (entry,) = svc.store.con.execute(
        "SELECT actor, target, details FROM audit_log WHERE action = 'fraud_alert.referrals.export'"
    ).fetchall()
    assert entry[:2] == ("operator:lin", "bureau:experian")
    assert json.loads(entry[2])["referrals"] == [r["referral_id"] for r in queued
                                                 if r["bureau"] == "experian"]  # fmt: skip

    done = svc.run(export_referrals, svc.store, "equifax", tmp_path)
    assert done.referrals == 1 and done.file is not None
    (line,) = Path(done.file).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["person"]["name"] == name
    assert c.get("/admin/audit/verify", headers=world.admin).json()["ok"]
