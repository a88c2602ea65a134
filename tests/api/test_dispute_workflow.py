"""The dispute workflow over HTTP: the person sends evidence and appeals, the operator closes a
dispute as frivolous with reasons and reinserts an item only with a certification."""

from __future__ import annotations

from .conftest import World


def test_evidence_frivolous_appeal_and_reinsertion_through_the_api(world: World) -> None:
    c = world.client
    events = c.get("/v1/me/file", headers=world.session).json()["events"]
    target = next(e for e in events if e["event_type"] not in ("consent", "correction"))
    opened = c.post("/v1/me/disputes", json={"event_id": target["event_id"],
                    "statement": "not mine"}, headers=world.session)  # fmt: skip
    assert opened.status_code == 201, opened.text
    dispute = opened.json()["dispute_id"]
    sent = c.post(f"/v1/me/disputes/{dispute}/evidence", json={"evidence": "my bank statement"},
                  headers=world.session)  # fmt: skip
    assert sent.status_code == 200 and sent.json()["evidence"] == "my bank statement"
    # R-FCRA-4: the item's furnisher loads files: its notice waits in its queue for export
    (queued,) = c.get("/admin/furnisher-notices", headers=world.admin).json()
    assert queued["dispute_id"] == dispute and queued["source"] == target["source"]
    handed = c.post(f"/admin/furnisher-notices/{target['source']}/export", headers=world.admin)
    assert handed.status_code == 200 and handed.json()["notices"] == 1
    assert handed.json()["payloads"][0]["statement"] == "not mine"
    assert c.get("/admin/furnisher-notices", headers=world.admin).json() == []

    url = f"/admin/disputes/{dispute}/resolve"
    bare = c.post(url, json={"decision": "frivolous", "note": "no detail"}, headers=world.admin)
    assert bare.status_code == 422 and "needed" in bare.json()["error"]["message"]
    closed = c.post(url, json={"decision": "frivolous", "note": "no detail",
                    "needed": "which payment is wrong"}, headers=world.admin)  # fmt: skip
    assert closed.status_code == 200 and closed.json()["status"] == "frivolous"

    appealed = c.post(f"/v1/me/disputes/{dispute}/appeal",
                      json={"statement": "the March bill"}, headers=world.session)  # fmt: skip
    assert appealed.status_code == 200 and appealed.json()["status"] == "open"
    # R-BL-4: an appeal is decided by another operator than the one who closed the dispute
    removed = c.post(url, json={"decision": "correct", "action": "retract", "note": "unverified"},
                     headers={**world.admin, "X-Credo-Operator": "appeals-desk"})  # fmt: skip
    assert removed.status_code == 200 and removed.json()["status"] == "corrected"
    unsigned = c.post(f"/admin/disputes/{dispute}/reinsert", json={"certification": ""},
                      headers=world.admin)  # fmt: skip
    assert unsigned.status_code == 422
    contact = "City Water, 3 Pump Street, Suining, phone 0825-5550100"
    back = c.post(
        f"/admin/disputes/{dispute}/reinsert",
        json={"certification": "furnisher's ledger checked", "furnisher_contact": contact},
        headers=world.admin,
    )
    assert back.status_code == 200 and back.json()["status"] == "reinserted"
    texts = [a["text"] for a in c.get("/v1/me/feed", headers=world.session).json()
             if a["kind"] == "dispute"]  # fmt: skip
    assert any("put back" in t and contact in t for t in texts)

    # R-FCRA-9, R-FCRA-17: the report carries the reinserted item as disputed, the person
    # disagreeing (Metro 2 XC), with their statement.
    world.grant("tenancy")
    report = c.get(f"/v1/reports/{world.person}?purpose=tenancy",
                   headers=world.as_partner("reports"))  # fmt: skip
    assert report.status_code == 200, report.text
    (item,) = [i for i in report.json()["disputed_items"] if i["dispute_id"] == dispute]
    assert item["compliance_code"] == "XC" and "not mine" in item["statement"]


def test_R_BL_4_the_operator_is_named_the_appeal_goes_to_another_and_the_fix_is_timed(
    world: World,
) -> None:
    c = world.client
    events = c.get("/v1/me/file", headers=world.session).json()["events"]
    target = next(e for e in events if e["event_type"] not in ("consent", "correction"))
    opened = c.post("/v1/me/disputes", json={"event_id": target["event_id"],
                    "statement": "not mine"}, headers=world.session)  # fmt: skip
    dispute = opened.json()["dispute_id"]
    url = f"/admin/disputes/{dispute}/resolve"
    lin = {**world.admin, "X-Credo-Operator": "lin"}
    odd = c.post(
        url, json={"decision": "reject"}, headers={**world.admin, "X-Credo-Operator": "a b"}
    )
    assert odd.status_code == 422  # a name the audit log can hold, or none
    first = c.post(url, json={"decision": "reject", "note": "verified"}, headers=lin)
    assert first.status_code == 200 and first.json()["resolved_by"] == "operator:lin"
    appealed = c.post(f"/v1/me/disputes/{dispute}/appeal", json={"statement": "see receipt"},
                      headers=world.session)  # fmt: skip
    assert appealed.status_code == 200, appealed.text

    same = c.post(url, json={"decision": "reject", "note": "still verified"}, headers=lin)
    assert same.status_code == 409 and "another operator" in same.json()["error"]["message"]
    (mine,) = c.get("/v1/me/disputes", headers=world.session).json()
    assert mine["status"] == "open"  # the refusal changed nothing

    # the shipped client names the operator too (what `credo disputes resolve --operator` sends)
    done = world.operator.resolve_dispute(dispute, "correct", "retract", note="receipt",
                                          operator="wu")  # fmt: skip
    assert (done["resolved_by"], done["first_decided_by"]) == ("operator:wu", "operator:lin")
    assert done["fix_due_at"] and done["fixed_at"] and done["fix_overdue"] is False
    # the fix's due date and state, shown to the person and the operator
    (mine,) = c.get("/v1/me/disputes", headers=world.session).json()
    (theirs,) = c.get("/admin/disputes", headers=world.admin).json()
    for shown in (mine, theirs):
        assert (shown["fix_due_at"], shown["fixed_at"], shown["fix_overdue"]) == (
            done["fix_due_at"], done["fixed_at"], False)  # fmt: skip
    svc = c.app.state.service  # type: ignore[attr-defined]
    actors = dict(svc.store.con.execute(
        "SELECT action, actor FROM audit_log WHERE action IN ('dispute.reject',"
        " 'dispute.correct', 'dispute.fixed')").fetchall())  # fmt: skip
    assert actors == {"dispute.reject": "operator:lin", "dispute.correct": "operator:wu",
                      "dispute.fixed": "operator:wu"}  # fmt: skip
