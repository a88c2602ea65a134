"""The console registers partners, gives them keys and revokes keys; the secrets are shown once
beside the form that made them, and a revoked key is refused by the API at once."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from credo.client import CredoAPIError, PartnerClient

from .conftest import Site, sign_in_operator


def _status(site: Site, key: str) -> int:
    """What the decision route says to this key: 403 (no consent) for a live key, else 401."""
    with PartnerClient(site.base, key=key) as api:
        try:
            api.decide(site.other, "bike_rental", "none")
        except CredoAPIError as exc:
            return exc.status
    raise AssertionError("a decision without consent was made")


def test_operator_registers_a_partner_and_manages_its_keys(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in_operator(page, site)
    page.get_by_label("Partner id").fill("acme")
    page.get_by_label("Name", exact=True).fill("Acme Rentals")
    page.get_by_role("button", name="Register the partner").click()
    made = page.locator("#partners #partner-made")
    expect(made).to_contain_text("Partner acme registered")
    assert re.search(r"[0-9a-f]{64}", made.inner_text())
    page.get_by_role("button", name="Create a key for acme").click()
    shown = page.locator("#partners #key-made").inner_text()
    key = re.search(r"credo_[0-9a-f]{12}_\S+", shown)
    assert key is not None and "decisions, outcomes, reports" in shown, shown
    assert _status(site, key.group(0)) == 403
    key_id = key.group(0).split("_")[1]
    page.get_by_role("button", name=f"Revoke key {key_id}").click()
    expect(page.locator("#partners")).to_contain_text("Key revoked.")
    expect(page.locator("#partners")).to_contain_text("no active key")
    assert _status(site, key.group(0)) == 401
    # a bad id is refused, named, and changes nothing
    page.get_by_label("Partner id").fill("bad")
    page.get_by_label("Name", exact=True).fill("x")
    page.get_by_label("Partner id").evaluate("e => e.removeAttribute('pattern')")
    page.get_by_label("Partner id").fill("bad id")
    page.get_by_role("button", name="Register the partner").click()
    expect(page.get_by_role("alert").first).to_contain_text("partner_id")
