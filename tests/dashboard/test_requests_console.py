"""The console's request queue in headless Chromium (RULES R-GDPR-6, R-GDPR-1): a human review
that ran past its deadline is marked overdue; the operator records the outcome with reasons on
the page, and the person sees it on theirs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from credo.rights.reviews import request_review
from credo.settings import Settings
from credo.store.db import Store

from .conftest import Site, _top_persons, sign_in, sign_in_operator

STATEMENT = "the score misses my new salary"


@pytest.fixture
def late_review(db: Path) -> str:
    """A review of the score asked for 40 days ago and never decided."""
    other = _top_persons(db, 2)[1]
    with Store.open(Settings(db=db)) as store:
        asked = dt.datetime.now() - dt.timedelta(days=40)
        return request_review(store, other, STATEMENT, now=asked).review_id


def test_R_GDPR_6_the_console_lists_reviews_marks_overdue_and_records_the_outcome(
    late_review: str, site: Site, new_page: Any
) -> None:
    operator = new_page()
    sign_in_operator(operator, site)
    row = operator.locator(f'#requests tr[data-request="{late_review}"]')
    expect(row).to_have_attribute("data-kind", "review")
    expect(row.locator(".overdue-mark")).to_have_text("overdue")
    expect(row).to_contain_text(STATEMENT)
    expect(operator.locator("#requests-overdue")).to_have_text("1")

    row.get_by_label("Upheld: the decision stands").check()
    row.get_by_label("Reasons (shown to the person)").fill("the salary is not yet on file")
    row.get_by_role("button", name="Record").click()
    expect(operator.get_by_role("status")).to_contain_text("Review outcome recorded")
    expect(operator.locator(f'#requests tr[data-request="{late_review}"]')).to_have_count(0)
    expect(operator.locator("#requests-overdue")).to_have_text("0")

    person = new_page()
    sign_in(person, site, site.other)
    mine = person.locator(f'#requests tr[data-request="{late_review}"]')
    expect(mine).to_contain_text("upheld: the salary is not yet on file")
    expect(mine.locator(".due")).to_contain_text("overdue")  # answered late, and shown so
    reviews = site.admin("GET", "/admin/reviews", params={"status": "upheld"})
    assert [(r["review_id"], r["decided_by"]) for r in reviews] == [(late_review, "operator")]

    # The person's page gives the export (R-GDPR-2) and takes an objection (R-GDPR-5).
    export = person.request.get(f"{site.base}/me/export")
    assert export.ok and export.headers["content-disposition"].startswith("attachment")
    assert export.json()["person"] == site.other and export.json()["recipients"] == []
    person.get_by_label("Object to the processing of your data: why?").fill("I moved abroad")
    person.get_by_role("button", name="Object").click()
    expect(person.locator("#done-erasure")).to_contain_text("objection is recorded")
    expect(person.locator("#restriction-state")).to_contain_text("restricted")
    operator.reload()
    expect(operator.locator('#requests tr[data-kind="objection"]')).to_contain_text("I moved")
