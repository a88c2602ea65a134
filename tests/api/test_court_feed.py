"""RULES R-BL-6 over a real uvicorn server: the court's feed reports that a listed person
satisfied the judgment; the very next decision is neither capped nor restricted, and the
partner that was declined because of the listing is told by webhook (no dispute involved)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from .test_end_to_end import (
    ADMIN_HEADERS,
    Inbox,
    airline_and_person,
    declined_while_listed,
    first_message,
    listed,
    server,
    webhook_server,
)

__all__ = ["listed", "server", "webhook_server"]  # the fixtures this module uses


def test_R_BL_6_a_satisfaction_from_the_court_feed_lifts_the_cap_for_the_next_decision(
    server: tuple[str, str, Path], webhook_server: tuple[str, Inbox]
) -> None:
    base, person, _ = server
    url, inbox = webhook_server
    with httpx.Client(base_url=base, timeout=30) as c:
        _, partner, _, booking = airline_and_person(c, url, person)
        declined = declined_while_listed(c, booking, partner)

        update = c.post(
            "/admin/court-list/updates",
            json={"record_id": "7100009", "court": "北京市朝阳区人民法院",
                  "case_number": "(2026)京0105执1234", "status": "satisfied",
                  "listed_on": "2026-06-01", "amount": "8000.00", "satisfied_on": "2026-08-15"},
            headers=ADMIN_HEADERS,
        )  # fmt: skip
        assert update.status_code == 201, update.text
        lifted = update.json()
        assert lifted["person_id"] == person and lifted["rescored_run_id"]
        assert lifted["notified"] == ["skyair"]

        approved = c.post("/v1/decisions", json=booking, headers=partner).json()
        assert approved["outcome"] == "approved", approved
        assert approved["run_id"] == lifted["rescored_run_id"]
        assert approved["score"] > 549 and "court_list" not in {
            r["code"] for r in approved["reasons"]
        }

        unknown = c.post(
            "/admin/court-list/updates",
            json={"record_id": "7100010", "court": "北京市朝阳区人民法院",
                  "case_number": "(2026)京0105执0000", "status": "revoked",
                  "listed_on": "2026-06-01", "amount": "1.00"},
            headers=ADMIN_HEADERS,
        )  # fmt: skip
        assert unknown.status_code == 404 and "no listing of case" in unknown.text

    _, body = first_message(inbox)
    notice = json.loads(body)
    assert notice["type"] == "court_list" and notice["person"] == person
    assert notice["affected"] == [declined["decision_id"]]
