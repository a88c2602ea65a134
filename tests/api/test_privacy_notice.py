"""The privacy notice (RULES R-PIPL-2) and the webhook host allow-list (issue 20, item 9)."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from credo.access import create_partner
from credo.api import create_app
from credo.errors import InputError
from credo.policy.rules import active_rules
from credo.purposes import PURPOSE_LABELS
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.webhooks import deliver_webhooks, enqueue

from .conftest import api_settings


def test_R_PIPL_2_the_privacy_notice_names_the_operator_purposes_data_retention_and_rights(
    db: Path,
) -> None:
    contact = "Credo Ltd, 1 Main St, privacy@credo.example"
    settings = Settings(db=db, rules_profile="cn-crr")
    with TestClient(create_app(settings, api_settings(privacy_contact=contact))) as c:
        page = c.get("/privacy")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert 'href="/privacy"' in c.get("/login").text  # every page links to it
    rules = active_rules(settings)
    assert contact in text  # who processes, and how to reach them
    assert f"deleted {rules.retention.adverse_years} years after the end of the act" in text
    assert f"answered within {rules.disputes.days} days" in text
    for purpose in rules.reports.purposes:
        assert PURPOSE_LABELS.get(purpose, purpose) in text, purpose
    for word in ("court judgment", "erased", "human", "restrict", "consent"):
        assert word in text.lower(), word


def test_webhooks_go_only_to_allowed_hosts(tmp_path: Path) -> None:
    open_settings = Settings(db=tmp_path / "credo.duckdb")
    with Store.open(open_settings) as store:  # registered before the allow-list was set
        create_partner(store, "oldco", "Old Co", webhook_url="http://127.0.0.1:9/hook")
    allowed = Settings(db=tmp_path / "credo.duckdb", webhook_hosts=("hooks.bank.example",))
    with Store.open(allowed) as store:
        with pytest.raises(InputError, match="allow-list"):
            create_partner(store, "newco", "New Co", webhook_url="http://127.0.0.1:9/hook")
        assert create_partner(store, "bank", "Bank", webhook_url="https://hooks.bank.example/h")
        at = dt.datetime(2026, 11, 1)
        with store.write(AuditEntry("test", "notice")) as con:
            enqueue(con, "oldco", {"type": "test"}, at)
        report = deliver_webhooks(store, now=at)
        assert (report.delivered, report.failed) == (0, 1)
        (error,) = store.con.execute(
            "SELECT last_error FROM webhook_outbox WHERE partner_id = 'oldco'"
        ).fetchall()[0]
        assert "allow-list" in error  # refused before any connection was tried
        logged = store.con.execute(
            "SELECT details FROM audit_log WHERE action = 'webhook.failed'"
        ).fetchall()
        assert "allow-list" in json.loads(logged[0][0])["error"]
