"""The rights library without HTTP: products policy errors name the key; tokens; the outbox."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from credo.access import create_partner, exchange_login_code, verify_session
from credo.errors import AuthError, ConfigError
from credo.policy.products import load_products
from credo.rights import consents
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.webhooks import MAX_ATTEMPTS, deliver_webhooks, enqueue


def test_shipped_products_load() -> None:
    products = load_products()
    assert products.product("bike_rental").offer(650).terms == {"deposit": 0}
    assert products.product("bike_rental").offer(649).terms == {"deposit": 99}
    assert products.product("airport_fast_lane").offer(749).outcome == "declined"
    assert products.product("flights").restricted


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("products: []", "products"),
        ("products: [{name: x, purpose: gossip, default: {outcome: approved, reason: r}}]",
         "products[0].purpose"),
        ("products: [{name: x, purpose: rental, default: {outcome: maybe, reason: r}}]",
         "products[0].default.outcome"),
    ],
)  # fmt: skip
def test_products_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"kind: products\nname: t\nversion: '1'\n{text}\n")
    with pytest.raises(ConfigError, match=f"key '{key.replace('[', '.').replace(']', '.')}"):
        load_products(path)


def test_session_tokens_expire_and_resist_tampering(store: Store) -> None:
    from credo.access import issue_login_code

    with store.write(AuditEntry("test", "person")) as con:
        con.execute("INSERT INTO persons VALUES ('P1', ?, 'active')", [dt.datetime(2026, 1, 1)])
    now = dt.datetime(2026, 11, 1, 12)
    code = issue_login_code(store, "P1", now=now)
    with pytest.raises(AuthError):
        exchange_login_code(store, "P1", code, now=now + dt.timedelta(minutes=16))
    token = exchange_login_code(store, "P1", code, now=now)
    assert verify_session(store, token, now=now) == "P1"
    with pytest.raises(AuthError, match="expired"):
        verify_session(store, token, now=now + dt.timedelta(hours=2))
    payload, sig = token.split(".")
    with pytest.raises(AuthError):
        verify_session(store, payload[:-2] + "xx." + sig, now=now)


def test_failed_webhooks_are_retried_with_backoff_then_given_up(store: Store) -> None:
    create_partner(store, "p1", "P1", webhook_url="http://127.0.0.1:9/none")
    t0 = dt.datetime(2026, 11, 1)
    with store.write(AuditEntry("test", "notice")) as con:
        enqueue(con, "p1", {"type": "test"}, t0)
    calls: list[str] = []

    def failing(message: object) -> str:
        calls.append("x")
        return "HTTP 500"

    assert deliver_webhooks(store, now=t0, post=failing).failed == 1
    too_soon = deliver_webhooks(store, now=t0 + dt.timedelta(seconds=10), post=failing)
    assert too_soon.failed == 0  # within the backoff on the (simulated) clock: not retried
    for k in range(1, MAX_ATTEMPTS + 2):
        deliver_webhooks(store, now=t0 + dt.timedelta(hours=2 * k), post=failing)
    assert len(calls) == MAX_ATTEMPTS
    assert store.scalar("SELECT last_error FROM webhook_outbox") == "HTTP 500"


def test_the_newest_grant_or_revoke_decides_consent(store: Store) -> None:
    from credo.rights import active_consent, record_consent

    with store.write(AuditEntry("test", "person")) as con:
        con.execute("INSERT INTO persons VALUES ('P1', ?, 'active')", [dt.datetime(2026, 1, 1)])
    create_partner(store, "p1", "P1")
    t = dt.datetime(2026, 11, 1)

    def act(action: str, minutes: int, purpose: str = "rental") -> str:
        now = t + dt.timedelta(minutes=minutes)
        c = record_consent(store, "P1", action, partner="p1", purpose=purpose, now=now)  # type: ignore[arg-type]
        return c.consent_id

    assert active_consent(store, "P1", "p1", "rental") is None
    first = act("grant", 1)
    act("grant", 2, purpose="travel")
    assert active_consent(store, "P1", "p1", "rental") == first
    act("revoke", 3)
    assert active_consent(store, "P1", "p1", "rental") is None
    again = act("grant", 4)
    assert active_consent(store, "P1", "p1", "rental") == again
    assert active_consent(store, "P1", "p1", "travel") is not None
    assert active_consent(store, "P2", "p1", "rental") is None
    assert [c.active for c in consents(store, "P1")] == [False, True, False, True]


def test_refused_login_codes_are_audited_by_reason(store: Store) -> None:
    from credo.access import issue_login_code

    with store.write(AuditEntry("test", "person")) as con:
        con.execute("INSERT INTO persons VALUES ('P1', ?, 'active')", [dt.datetime(2026, 1, 1)])
    now = dt.datetime(2026, 11, 1, 12)
    code = issue_login_code(store, "P1", now=now)
    with pytest.raises(AuthError):
        exchange_login_code(store, "P1", code, now=now + dt.timedelta(minutes=16))
    exchange_login_code(store, "P1", code, now=now)
    with pytest.raises(AuthError):
        exchange_login_code(store, "P1", code, now=now)
    rows = store.con.execute(
        "SELECT target, details FROM audit_log WHERE action = 'auth.failed' ORDER BY seq"
    ).fetchall()
    assert [(t, json.loads(d)["reason"]) for t, d in rows] == [
        ("person:P1", "expired login code"),
        ("person:P1", "used login code"),
    ]
    assert code not in str(rows)
