"""The console's fairness page in Chromium: the month's audit at every product cut by group,
flags in red, the gate's overrides with who, when and why; each view an audited read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from credo.dashboard.console_fairness import fairness_view
from credo.fairness.bureau import audit_month
from credo.fairness.gate import gate
from credo.fairness.protected import load_protected
from credo.policy.products import load_products
from credo.settings import Settings
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import Site, sign_in_operator

WHY = "risk committee 2026-11: accepted pending the rural retraining"


@pytest.fixture
def protected(db: Path, population_db: Path) -> dict[str, Any]:
    """The population's protected attributes loaded and one override on the record, before
    the server starts; the audit the page should show, made here with the library."""
    with Store.open(Settings(db=db)) as store:
        load_protected(store, population_db.parent / "pop" / "protected" / "protected.csv")
        latest = store.scalar("SELECT max(as_of) FROM score_runs WHERE kind = 'monthly'")
        report = audit_month(store, latest, load_products("products"))
        report.flags = report.flags or [
            {"attribute": "sex", "cut": "score >= 650", "group": "female", "air": 0.5}
        ]  # the override records flags; this small population may have none of its own
        gate(report, store, WHY)
        return {"as_of": latest, "report": report.to_dict()}


def test_the_fairness_page_shows_the_audit_and_the_overrides(
    db: Path, protected: dict[str, Any], site: Site, new_page: Any
) -> None:
    page = new_page()
    sign_in_operator(page, site)
    page.get_by_role("link", name="Fairness").click()
    page.wait_for_url(f"{site.base}/console/fairness")
    report = protected["report"]
    expect(page.get_by_role("heading", name=f"Audit of {protected['as_of']}")).to_be_visible()
    for attribute in report["attributes"]:
        table = page.locator(f"table[data-attribute='{attribute['name']}']")
        expect(table).to_be_visible()
        first_cut = attribute["cuts"][0]
        for g in first_cut["groups"]:
            row = table.locator("tbody tr").filter(
                has=page.get_by_role("rowheader", name=g["group"], exact=True)
            )
            expect(row).to_contain_text(f"{100 * g['approval_rate']:.1f}%")
            if g["air"] is not None:
                expect(row.locator("td.air").first).to_have_text(f"{g['air']:.3f}")
    flagged = sum(1 for f in report["flags"])
    assert page.locator("td.air.flag").count() == flagged
    override = page.locator("#overrides tr.override")
    expect(override).to_have_count(1)
    expect(override.locator("td.why")).to_have_text(WHY)
    expect(override).to_contain_text(Settings(db=db).actor)
    expect(override).to_contain_text(dt.date.today().isoformat()[:4])
    # another month, chosen in the form
    months = page.locator("#as-of option").all_inner_texts()
    assert len(months) >= 2
    page.select_option("#as-of", months[-1])
    page.get_by_role("button", name="Audit this month").click()
    expect(page.get_by_role("heading", name=f"Audit of {months[-1]}")).to_be_visible()


def test_each_view_is_an_audited_read_by_the_operator(db: Path, protected: dict[str, Any]) -> None:
    """The page's data function, on the store the server would hold: the read is recorded
    with the operator as reader and the month as purpose, before anything is shown."""
    with Store.open(Settings(db=db)) as store:
        before = len(_reads(store))
        view = fairness_view(store, None)
        assert view["report"] is not None and view["as_of"] == protected["as_of"]
        assert view["overrides"][0]["purpose"] == WHY
        reads = _reads(store)
        assert len(reads) == before + 1
        assert reads[-1]["actor"] == "operator"
        assert reads[-1]["purpose"] == f"fairness audit of the scores of {protected['as_of']}"
        assert json.loads(str(reads[-1]["details"]))["persons"] == view["report"]["rows"]


def _reads(store: Store) -> list[dict[str, Any]]:
    return rows(store.con, "SELECT * FROM audit_log WHERE action = 'protected_read' ORDER BY seq")


def test_the_simulation_page_runs_the_lab_and_draws_it(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in_operator(page, site)
    page.get_by_role("link", name="Simulation").first.click()
    page.wait_for_url(f"{site.base}/console/simulation")
    page.get_by_label("People").fill("1500")
    page.get_by_label("Months").fill("6")
    page.get_by_label("cap-next-month").check()
    page.get_by_role("button", name="Run the simulation").click()
    result = page.locator("#lab-result")
    expect(result.get_by_role("heading", name="1,500 people, 6 months, seed 1")).to_be_visible()
    expect(result.locator("svg").first).to_be_visible()
    for name in ("score", "no-connections", "cap-next-month"):
        expect(result.locator("table")).to_contain_text(name)
    # the same run, the same figures: the page is the lab's report
    from credo.lab.policy import load_policy
    from credo.lab.run import simulate

    chosen = [load_policy(p) for p in ("score", "no-connections", "cap-next-month")]
    report = simulate(1500, 6, chosen, 1).to_dict()
    last = report["policies"][0]["months"][-1]["overall"]
    expect(result.locator("table")).to_contain_text(f"{last['mean_score']:.1f}")
    people = page.locator("#lab-people")
    people.evaluate("e => e.removeAttribute('max')")
    people.fill("50000")
    page.get_by_role("button", name="Run the simulation").click()
    expect(page.get_by_role("alert")).to_contain_text("the console runs 2-20,000 people")
