"""Pages a person can read: values in units and words, reasons that open to something,
confirmations beside the form that made them, console items named as a person names them
(issue 16, item 4). The browser tests run in Chromium over a real server."""

from __future__ import annotations

import re
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from playwright.sync_api import Page, expect

from credo.dashboard.formats import LABELS, UNITS, bin_text, feature_value, label
from credo.features.catalogue import CATALOGUE
from credo.sim.partners import PARTNERS

from .conftest import CASE, Site, sign_in, sign_in_operator

# A float as Python prints it (0.9629629629629629, 363.1583333333333, 7.0) and a code
# (senior_secondary, court_list): neither may reach a person.
RAW_FLOAT = re.compile(r"(?<![\d.])\d+\.(\d{3,}|0)(?![\d.%])")
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def test_every_feature_of_the_catalogue_has_a_unit() -> None:
    assert set(UNITS) == {f.name for f in CATALOGUE}


@given(st.sampled_from(sorted(UNITS)), st.floats(0, 1e6, allow_nan=False))
def test_a_feature_value_is_rounded_and_has_its_unit(feature: str, value: float) -> None:
    text = feature_value(value, feature)
    assert not RAW_FLOAT.search(text.replace(",", "")), text
    assert "e+" not in text and "e-" not in text
    unit = UNITS[feature]
    if unit == "share":
        assert text.endswith("%")
    elif unit == "money":
        assert text.startswith("¥") and re.fullmatch(r"¥[\d,]+\.\d\d", text)
    elif unit in ("days", "months"):
        assert re.fullmatch(rf"[\d,]+(\.\d)? {unit[:-1]}s?", text), text


def test_bins_are_written_in_the_feature_unit() -> None:
    share = {"kind": "interval", "lower": 0.87, "upper": 0.927}
    assert bin_text(share, "bills_paid_on_time_share_24m") == "87% to under 92.7%"
    assert bin_text({"kind": "interval", "upper": 65.0}, "monthly_spending_12m") == "under ¥65"
    months = {"kind": "interval", "lower": 1.0}
    assert bin_text(months, "months_since_oldest_account") == "1 month or more"
    edu = {"kind": "categories", "categories": ["senior_secondary"]}
    assert bin_text(edu, "education") == "senior secondary school (高中)"
    assert bin_text({"kind": "missing"}, "education") == "not known"
    assert feature_value(0.9629629629629629, "instalments_on_time_share_24m") == "96.3%"
    assert feature_value(363.1583333333333, "monthly_spending_12m") == "¥363.16"
    assert feature_value(7.0, "months_with_employer") == "7 months"


@given(
    st.sampled_from(sorted(LABELS)), st.from_regex(r"[a-z]{1,8}(_[a-z]{1,8}){0,3}", fullmatch=True)
)
def test_a_code_is_always_written_in_words(field: str, code: str) -> None:
    assert "_" not in label(code, field)


def _open_all(page: Page) -> None:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


def _register_partners(site: Site) -> None:
    for partner_id, name in PARTNERS.items():
        site.admin("POST", "/admin/partners", json={"partner_id": partner_id, "name": name})


def _raw(text: str) -> list[str]:
    return [m.group(0) for m in RAW_FLOAT.finditer(text)] + CODE.findall(text)


def test_the_person_page_shows_no_raw_float_or_code(site: Site, new_page: Any) -> None:
    _register_partners(site)
    page = new_page()
    for person in (site.person, site.other, site.thin):
        sign_in(page, site, person)
        _open_all(page)
        text = page.locator("main").inner_text()
        assert _raw(text) == [], (person, _raw(text)[:10])
    # the points table's values carry their units
    sign_in(page, site, site.other)
    value = page.locator("#points tr[data-feature=monthly_spending_12m] td.value")
    expect(value).to_have_text(re.compile(r"^(¥[\d,]+\.\d\d|not known)$"))
    share = page.locator("#points tr[data-feature=bills_paid_on_time_share_24m] td.value")
    expect(share).to_have_text(re.compile(r"^(\d+(\.\d)?%|not known)$"))
    expect(page.locator("#dimensions-note")).to_contain_text("can be below zero")


def test_every_reason_opens_to_something_and_ends_its_sentence(site: Site, new_page: Any) -> None:
    page = new_page()
    for person in (site.person, site.other, site.thin):
        sign_in(page, site, person)
        reasons = page.locator("details.reason")
        assert reasons.count() > 0, person
        for k in range(reasons.count()):
            reason = reasons.nth(k)
            reason.locator("summary").click()
            body = reason.locator(":scope > :not(summary)")
            assert body.count() > 0, (person, reason.get_attribute("data-code"))
            expect(body.first).to_be_visible()
            assert (body.first.inner_text() or "").strip()
            said = reason.locator("summary").evaluate("s => s.firstChild.textContent.trim()")
            assert said.endswith("."), (person, said)
    # the court's listing opens to the listing itself, linked to the file
    sign_in(page, site, site.person)
    court = page.locator("details.reason[data-code=court_list]")
    court.locator("summary").click()
    expect(court.locator("a[href^='#event-']")).to_contain_text(CASE)


def _in_view(page: Page, selector: str) -> None:
    """Whole on the screen where the page landed: no scrolling to find it."""
    expect(page.locator(selector)).to_be_in_viewport(ratio=1)


def test_a_confirmation_shows_beside_the_form_that_made_it(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, site.other)
    row = page.locator("#events tbody tr[data-kind=payment]").first
    row.get_by_text("Dispute", exact=False).first.click()
    row.get_by_label("What is wrong?").fill("I never made this payment")
    row.get_by_role("button", name="Send the dispute").click()
    notice = page.locator("#disputes [role=status]")
    expect(notice).to_contain_text("Your dispute is open")
    _in_view(page, "#disputes [role=status]")
    # the disputed item is named by what it is, not by its source's record id
    expect(page.locator("#disputes tbody td.item").first).to_contain_text("paid for")

    page.locator("#freeze").get_by_role("button", name="Freeze my file").click()
    expect(page.locator("#freeze [role=status]")).to_contain_text("frozen")
    _in_view(page, "#freeze [role=status]")

    operator = new_page()
    sign_in_operator(operator, site)
    operator.locator("#codes").get_by_label("Person id").fill("NOBODY")
    operator.locator("#codes").get_by_role("button", name="Issue a code").click()
    expect(operator.locator("#codes [role=alert]")).to_contain_text("NOBODY")
    _in_view(operator, "#codes [role=alert]")


def test_the_console_names_a_disputed_item_by_its_court_case_and_amount(
    site: Site, new_page: Any
) -> None:
    page = new_page()
    sign_in(page, site)
    row = page.locator("#events tbody tr[data-kind=court_judgment]", has_text=CASE)
    row.get_by_text("Dispute", exact=False).first.click()
    row.get_by_label("What is wrong?").fill("paid in full")
    row.get_by_role("button", name="Send the dispute").click()
    operator = new_page()
    sign_in_operator(operator, site)
    item = operator.locator("#disputes tr.dispute-row td.item")
    expect(item).to_contain_text("北京市朝阳区人民法院")
    expect(item).to_contain_text(f"case {CASE}")
    expect(item).to_contain_text("¥8,000.00")
    assert "court_list" not in item.inner_text() and "(event " not in item.inner_text()
    _open_all(operator)
    assert _raw(operator.locator("#disputes table").inner_text()) == []
    row = operator.locator("#disputes tr.dispute-row")
    row.get_by_label("Reject: the item is verified").check()
    row.get_by_role("button", name=re.compile("Decide")).click()
    expect(operator.locator("#disputes [role=status]")).to_have_text("Dispute resolved.")
    _in_view(operator, "#disputes [role=status]")
    _open_all(operator)
    expect(operator.locator("#disputes details li").first).to_contain_text(CASE)


def test_cells_at_a_phone_width_carry_their_column_name(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        page = context.new_page()
        sign_in(page, site, site.other)
        cell = page.locator("#points tbody tr").first.locator("td").nth(2)
        before = cell.evaluate("c => getComputedStyle(c, '::before').content")
        assert before == '"Your value: "', before
    finally:
        context.close()


def test_the_sign_in_page_says_how_long_a_code_lasts(site: Site) -> None:
    """The operator's codes last 15 minutes, the demo's 12 hours: the page said only 15."""
    from credo.access import LOGIN_CODE_TTL
    from credo.dashboard.demo import DEMO_CODE_TTL

    with httpx.Client(base_url=site.base, timeout=30) as c:
        text = " ".join(c.get("/login").text.split())
    assert f"{LOGIN_CODE_TTL.seconds // 60} minutes after the operator issues it" in text
    assert f"{DEMO_CODE_TTL.seconds // 3600} hours for the codes the local demo prints" in text
