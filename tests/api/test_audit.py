"""Admin reads and refused credentials leave audit entries; the entries hold no secret."""

from __future__ import annotations

import json
from typing import Any

from credo.store import audit
from credo.store.db import Store

from .conftest import ADMIN, World


def _entries(world: World, action: str) -> list[dict[str, Any]]:
    """Audit entries of one action, read through the app's own connection (it holds the file)."""
    svc = world.client.app.state.service  # type: ignore[attr-defined]
    store: Store = svc.run(lambda: svc.store)  # the decision journal applied first
    rows = store.con.execute(
        "SELECT actor, target, purpose, details FROM audit_log WHERE action = ? ORDER BY seq",
        [action],
    ).fetchall()
    assert audit.verify(store.con).ok
    return [
        {"actor": a, "target": t, "purpose": p, "details": json.loads(d)} for a, t, p, d in rows
    ]


def test_admin_dispute_list_is_audited(world: World) -> None:
    assert world.client.get("/admin/disputes", headers=world.admin).status_code == 200
    r = world.client.get("/admin/disputes?status=open", headers=world.admin)
    assert r.status_code == 200
    reads = _entries(world, "read.disputes")
    assert [(e["actor"], e["target"]) for e in reads] == [("admin", "disputes")] * 2
    assert [e["details"]["status"] for e in reads] == [None, "open"]


def test_failed_sign_ins_are_audited_without_secrets(world: World) -> None:
    c = world.client
    key_id = world.keys["decisions"].split("_")[1]
    wrong_key = f"credo_{key_id}_not-the-secret-s3cr3t"
    body = {"person": world.person, "product": "car_rental", "consent": "x"}
    assert c.post("/v1/decisions", json=body, headers=_bearer(wrong_key)).status_code == 401
    mangled = "s3cr3t-pasted-alone"
    assert c.post("/v1/decisions", json=body, headers=_bearer(mangled)).status_code == 401
    r = c.post("/v1/me/session", json={"person": world.person, "code": "bad-c0de-s3cr3t"})
    assert r.status_code == 401
    assert c.get("/v1/me/file", headers=_bearer("forged.s3cr3t")).status_code == 401
    assert c.get("/admin/disputes", headers=_bearer("b" * 40)).status_code == 401
    assert c.get("/admin/disputes").status_code == 401

    failed = _entries(world, "auth.failed")
    got = [(e["details"]["credential"], e["details"]["reason"], e["target"]) for e in failed]
    assert got == [
        ("api_key", "wrong secret", f"api_key:{key_id}"),
        ("api_key", "malformed key", None),
        ("login_code", "unknown login code", f"person:{world.person}"),
        ("session", "invalid session token", None),
        ("admin_token", "wrong admin token", None),
        ("admin_token", "missing admin token", None),
    ]
    text = json.dumps(failed)
    for secret in ("s3cr3t", ADMIN, "b" * 40):
        assert secret not in text


def test_a_revoked_key_stops_at_once_though_good_keys_are_remembered(world: World) -> None:
    c = world.client
    consent = world.grant("rental")
    body = {"person": world.person, "product": "car_rental", "consent": consent}
    key = world.as_partner("decisions")
    assert c.post("/v1/decisions", json=body, headers=key).status_code == 200
    assert c.post("/v1/decisions", json=body, headers=key).status_code == 200
    key_id = world.keys["decisions"].split("_")[1]
    assert c.delete(f"/admin/keys/{key_id}", headers=world.admin).status_code == 204
    assert c.post("/v1/decisions", json=body, headers=key).status_code == 401
    assert _entries(world, "auth.failed")[-1]["details"]["reason"] == "unknown or revoked key"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
