"""Separate consent for sensitive data (RULES R-PIPL-3, decision 0690): the ordinary consent
for a partner and purpose never covers a report's financial accounts."""

from __future__ import annotations

from pathlib import Path

from credo.policy.rules import load_rules
from credo.settings import Settings
from credo.store.db import Store

from .conftest import World


def _loan_accounts(db_path: Path, person: str) -> list[str]:
    with Store.open(Settings(db=db_path)) as store:
        found = store.con.execute(
            "SELECT DISTINCT e.account_id FROM events e JOIN event_persons p"
            " ON p.event_id = e.event_id AND p.role = 'subject'"
            " WHERE p.person_id = ? AND e.event_type = 'loan' ORDER BY 1",
            [person],
        ).fetchall()
    return [r[0] for r in found]


def test_R_PIPL_3_sensitive_data_needs_its_own_consent_the_ordinary_one_is_not_enough(
    world: World, db: Path
) -> None:
    c, me = world.client, world.session
    assert load_rules("default").consents.sensitive_separate  # the installation's profile
    assert load_rules("cn-crr").consents.sensitive_separate
    url, key = f"/v1/reports/{world.person}", world.as_partner("reports")
    ask = {"purpose": "credit_transaction"}
    world.grant("credit_transaction")
    plain = c.get(url, params=ask, headers=key)
    assert plain.status_code == 200, plain.text
    assert "accounts" not in plain.json()

    # The ordinary consent alone: no sensitive section, and the answer says why.
    refused = c.get(url, params={**ask, "accounts": True}, headers=key)
    assert refused.status_code == 403, refused.text
    assert "separate consent" in refused.text and "sensitive" in refused.text
    held = c.get("/v1/me/consents", headers=me).json()
    assert {h["action"] for h in held if h["active"]} == {"enrol", "grant"}  # nothing implied

    # A separate grant names partner and purpose; then, and only then, the section is given.
    bad = c.post("/v1/me/consents", json={"action": "grant_sensitive"}, headers=me)
    assert bad.status_code == 422 and "purpose" in bad.text
    body = {"partner": world.partner, "purpose": "credit_transaction"}
    granted = c.post("/v1/me/consents", json={"action": "grant_sensitive", **body}, headers=me)
    assert granted.status_code == 201, granted.text
    given = c.get(url, params={**ask, "accounts": True}, headers=key)
    assert given.status_code == 200, given.text
    accounts = _loan_accounts(db, world.person)
    assert accounts and [a["account_id"] for a in given.json()["accounts"]] == accounts
    # ... for that purpose only: another purpose of the same partner is still refused.
    world.grant("account_review")
    other = c.get(url, params={"purpose": "account_review", "accounts": True}, headers=key)
    assert other.status_code == 403
    # The person sees what was disclosed.
    file = c.get("/v1/me/file", headers=me).json()
    assert "accounts" in file["inquiries"][-1]["disclosed"]

    # Revoking the separate consent keeps the ordinary one; leaving revokes both.
    c.post("/v1/me/consents", json={"action": "revoke_sensitive", **body}, headers=me)
    assert c.get(url, params={**ask, "accounts": True}, headers=key).status_code == 403
    assert c.get(url, params=ask, headers=key).status_code == 200
    c.post("/v1/me/consents", json={"action": "grant_sensitive", **body}, headers=me)
    c.post("/v1/me/consents", json={"action": "leave"}, headers=me)
    after = c.get("/v1/me/consents", headers=me).json()
    assert not [h for h in after if h["active"] and h["action"].startswith("grant")]


def test_R_CRR_4_the_person_reads_the_consequences_then_consents_in_writing(
    world: World,
) -> None:
    c, me = world.client, world.session
    terms = c.get("/v1/me/consents/assets", headers=me).json()
    assert "withheld" in terms["statement"] and "资产信息" in terms["statement"]
    unread = c.post("/v1/me/consents", json={"action": "grant_assets"}, headers=me)
    assert unread.status_code == 422 and "acknowledged" in unread.text
    stale = {"action": "grant_assets", "acknowledged": "0" * 16}
    assert c.post("/v1/me/consents", json=stale, headers=me).status_code == 422
    body = {"action": "grant_assets", "acknowledged": terms["version"]}
    granted = c.post("/v1/me/consents", json=body, headers=me)
    assert granted.status_code == 201, granted.text
    (held,) = [
        h for h in c.get("/v1/me/consents", headers=me).json() if h["action"] == "grant_assets"
    ]
    assert held["active"] and held["purpose"] == f"asset_data:{terms['version']}"
    assert held["partner"] is None  # the bureau's own use, not a disclosure to a partner
    c.post("/v1/me/consents", json={"action": "leave"}, headers=me)
    (held,) = [
        h for h in c.get("/v1/me/consents", headers=me).json() if h["action"] == "grant_assets"
    ]
    assert not held["active"]  # leaving withdraws it too
