"""The person's page and the operator's console in headless Chromium, over a real server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from support import page_token

from credo.scoring import score
from credo.scoring.standing import RegimeStanding, lowest_standings, regime_standings
from credo.settings import Settings
from credo.store.db import Store

from .conftest import CASE, END, Site, file_via_api, sign_in, sign_in_operator


def _score(page: Page) -> int:
    return int(page.locator("#score-value").inner_text())


def _decide(site: Site, key: str, person: str, product: str = "car_rental") -> httpx.Response:
    held = file_via_api(site, person)
    grants = [c for c in held["consents"] if c["active"] and c["partner"] == "skyair"]
    body = {"person": person, "product": product,
            "consent": grants[-1]["consent_id"] if grants else "none"}  # fmt: skip
    with httpx.Client(base_url=site.base, timeout=30) as c:
        return c.post("/v1/decisions", json=body, headers={"Authorization": f"Bearer {key}"})


def _allow(page: Page, partner: str, purpose: str) -> None:
    """Grant a consent through the page's form."""
    page.get_by_text("Allow a partner").click()
    page.get_by_label("Partner").select_option(partner)
    page.get_by_label("Purpose").select_option(purpose)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("status")).to_have_text("Consent granted.")


def test_person_signs_in_and_reads_the_score(site: Site, new_page: Any) -> None:
    page = new_page()
    refused: list[str] = []  # what the Content-Security-Policy blocked, as Chromium reports it
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    sign_in(page, site, site.other)
    held = file_via_api(site, site.other)
    last = held["scores"][-1]
    expect(page.locator("#score-value")).to_have_text(f"{last['score']:.0f}")
    expect(page.locator("#score-band")).to_have_text(last["band"])
    badge = page.locator("#score-band").evaluate("e => getComputedStyle(e).backgroundColor")
    assert badge not in ("rgba(0, 0, 0, 0)", "transparent")  # the band's colour, from a class
    gauge = page.get_by_role("img", name=re.compile(rf"^Score {last['score']:.0f}, {last['band']}"))
    expect(gauge).to_be_visible()
    trend = page.locator("#score-trend")
    if last["trend"] is None:
        expect(trend).to_contain_text("First score")
    elif last["trend"] > 0:
        expect(trend).to_contain_text(f"up {last['trend']:.0f} points")
    elif last["trend"] < 0:
        expect(trend).to_contain_text(f"down {-last['trend']:.0f} points")
    # Five dimensions, as a chart and as a table; the history has one point per month scored.
    expect(page.locator("#dimensions tbody tr")).to_have_count(5)
    expect(page.get_by_role("img", name=re.compile("five dimensions"))).to_be_visible()
    months = {s["as_of"] for s in held["scores"]}
    expect(page.locator("#history svg circle")).to_have_count(len(months))
    # Every feature of the points table is on the page with the points the API gives.
    rows = page.locator("#points > table > tbody > tr")
    expect(rows).to_have_count(len(held["points_table"]))
    for k, f in enumerate(held["points_table"]):
        expect(rows.nth(k).locator("td").nth(4)).to_have_text(f"{f['points']:.0f}")
    # Every event is listed.
    expect(page.locator("#events tbody tr")).to_have_count(len(held["events"]))
    assert refused == []


def test_chinese_names_render_with_the_served_font(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, site.other)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.reload()
    name = page.locator("h1 .name").inner_text()
    held = file_via_api(site, site.other)
    assert name in {e.get("name") for e in held["events"]}
    loaded = page.evaluate(
        """async (text) => { await document.fonts.ready;
           const faces = await document.fonts.load('16px "Credo Sans SC"', text);
           return faces.map(f => f.status); }""",
        "马天成张伟李娜" + name,
    )
    assert loaded == ["loaded"]
    # Nothing is fetched from anywhere but this server (no CDN).
    assert requests and all(u.startswith(site.base) for u in requests), requests


def test_assets_are_served_offline(site: Site, new_page: Any) -> None:
    page = new_page()
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(site.base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    sign_in(page, site, site.other)
    expect(page.locator("#score-value")).to_be_visible()
    assert blocked == []
    styled = page.evaluate("getComputedStyle(document.querySelector('header.top')).display")
    assert styled == "flex"  # the served stylesheet applied


def test_open_a_reason_shows_its_points_and_events(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, site.other)
    held = file_via_api(site, site.other)
    reason = page.locator("details.reason").first
    expect(reason).not_to_have_attribute("open", "")
    reason.locator("summary").click()
    expect(reason).to_have_attribute("open", "")
    code = reason.get_attribute("data-code")
    feature = next(f for f in held["points_table"] if f["feature"] == code)
    table = reason.locator("table")
    expect(table).to_be_visible()
    mine = table.locator("tr.mine")
    expect(mine).to_have_count(1)
    expect(mine.locator("td").nth(1)).to_have_text(str(feature["bin"]["points"]))


def test_keyboard_alone_reaches_the_content_and_opens_a_reason(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, site.other)
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('details.reason') !== null"):
            break
    else:
        raise AssertionError("no reason is reachable with the Tab key")
    page.keyboard.press("Enter")
    expect(page.locator("details.reason[open]")).to_have_count(1)
    # Every chart has a text alternative.
    for svg in page.locator("svg.chart").all():
        labelled = svg.get_attribute("aria-labelledby") or ""
        assert svg.get_attribute("role") == "img" and labelled
        for ident in labelled.split():
            assert (page.locator(f"#{ident}").text_content() or "").strip()


def test_dispute_from_both_sides_changes_the_score_on_the_page(site: Site, new_page: Any) -> None:
    person = new_page()
    sign_in(person, site)
    before = _score(person)
    assert before <= 549  # capped while listed
    expect(person.locator("details.reason").first).to_contain_text("court")
    expect(person.locator("#capped-note")).to_be_visible()
    row = person.locator("#events tbody tr[data-kind=court_judgment]", has_text=CASE)
    row.get_by_text("Dispute", exact=False).first.click()
    row.get_by_label("What is wrong?").fill("I paid the judgment in full on 2026-08-15")
    row.get_by_label("Evidence (optional)").fill("bank receipt, ¥8000 to the court's account")
    row.get_by_role("button", name="Send the dispute").click()
    expect(person.get_by_role("status")).to_contain_text("Your dispute is open")
    row = person.locator("#events tbody tr", has_text=CASE)
    expect(row).to_have_class(re.compile("disputed"))
    expect(row.locator("td.status")).to_have_text("disputed")
    expect(person.locator("#disputes tbody tr")).to_contain_text("open — decision due by")

    operator = new_page()
    sign_in_operator(operator, site)
    queue = operator.locator("#disputes tr.dispute-row", has_text=CASE)
    expect(queue).to_have_count(1)
    expect(queue).to_contain_text("I paid the judgment in full")
    # A line that is not field=value is refused, and nothing changes.
    queue.get_by_label("Correct it: amend the item").check()
    queue.get_by_label(re.compile("Amendment")).fill("satisfied on 15 August")
    queue.get_by_role("button", name=re.compile("Decide")).click()
    expect(operator.get_by_role("alert")).to_contain_text("line 1: write field=value")
    queue = operator.locator("#disputes tr.dispute-row", has_text=CASE)
    expect(queue).to_have_count(1)
    queue.get_by_label("Correct it: amend the item").check()
    queue.get_by_label(re.compile("Amendment")).fill(
        "judgment_status=satisfied\nsatisfied_on=2026-08-15"
    )
    queue.get_by_label("Note").fill("receipt verified with the court")
    queue.get_by_role("button", name=re.compile("Decide")).click()
    expect(operator.get_by_role("status")).to_have_text("Dispute resolved.")
    expect(operator.locator("#disputes-h")).to_contain_text("0 open")

    person.reload()
    after = _score(person)
    assert after > before
    assert after == round(file_via_api(site)["scores"][-1]["score"])
    expect(person.locator("#score-trend")).to_contain_text("up")
    expect(person.locator("#reasons")).not_to_contain_text("court's list")
    expect(person.locator("#capped-note")).to_have_count(0)
    row = person.locator("#events tbody tr[data-kind=court_judgment]", has_text=CASE)
    expect(row.locator("td.status")).to_have_text("corrected after your dispute")
    correction = person.locator("#events tbody tr[data-kind=correction]", has_text=CASE)
    expect(correction).to_contain_text("amend")
    expect(person.locator("#disputes tbody tr")).to_contain_text("corrected")


def test_revoking_a_consent_stops_the_partner(site: Site, new_page: Any) -> None:
    key = site.partner_key()
    page = new_page()
    sign_in(page, site, site.other)
    held = page.locator("ul.grants li").count()  # grants the generated file holds already
    _allow(page, "skyair", "rental")
    grant = page.locator("ul.grants li[data-partner=skyair]")
    expect(grant).to_contain_text("renting without a deposit")
    expect(page.locator("ul.grants li")).to_have_count(held + 1)
    assert _decide(site, key, site.other).status_code == 200

    grant.get_by_role("button", name=re.compile("Revoke")).click()
    expect(page.get_by_role("status")).to_contain_text("Consent revoked")
    expect(grant).to_have_count(0)
    expect(page.locator("ul.grants li")).to_have_count(held)
    refused = _decide(site, key, site.other)
    assert refused.status_code == 403, refused.text
    # The inquiry the granted decision made is listed for the person.
    page.reload()
    expect(page.locator("#inquiries tbody tr")).to_have_count(1)
    expect(page.locator("#inquiries")).to_contain_text("Sky Air")


def test_freezing_the_file_blocks_decisions_until_lifted(site: Site, new_page: Any) -> None:
    key = site.partner_key()
    page = new_page()
    sign_in(page, site, site.other)
    _allow(page, "skyair", "rental")
    page.get_by_role("button", name="Freeze my file").click()
    expect(page.get_by_role("status").first).to_contain_text("frozen")
    expect(page.locator("#frozen-banner")).to_be_visible()
    expect(page.locator("#freeze-state")).to_contain_text("frozen")
    assert _decide(site, key, site.other).status_code == 423
    page.get_by_role("button", name="Unfreeze my file").click()
    expect(page.locator("#frozen-banner")).to_have_count(0)
    assert _decide(site, key, site.other).status_code == 200


def test_sign_in_refuses_a_wrong_code_and_a_forged_cookie(site: Site, new_page: Any) -> None:
    page = new_page()
    page.goto(f"{site.base}/login")
    page.get_by_label("Person id").fill(site.other)
    page.get_by_label("One-time code").fill("000000-000000-000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    # No session: the only cookie is the forms' CSRF cookie every page sets.
    assert [c["name"] for c in page.context.cookies()] == ["credo_csrf"]
    page.context.add_cookies([{"name": "credo_session", "value": "forged.token",
                               "url": site.base}])  # fmt: skip
    page.goto(f"{site.base}/me")
    assert page.url == f"{site.base}/login"
    page.goto(f"{site.base}/console")
    assert page.url == f"{site.base}/console/login"
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid admin token")


def test_console_shows_queues_versions_and_the_audit_chain(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, site.other)
    row = page.locator("#events tbody tr").first
    row.get_by_text("Dispute", exact=False).first.click()
    row.get_by_label("What is wrong?").fill("this is not mine")
    row.get_by_role("button", name="Send the dispute").click()
    operator = new_page()
    sign_in_operator(operator, site)
    expect(operator.locator("#model-in-use")).to_have_text(re.compile(r"^sha256:"))
    expect(operator.locator("#policy-in-use")).to_contain_text("zhima")
    # The model's fit summary, kept beside its file, is shown with it (decision 0536).
    expect(operator.locator("td.fit").first).to_contain_text(
        re.compile(r"in time AUC [01]\.\d{3}, KS")
    )
    expect(operator.get_by_role("img", name="Persons by band and month")).to_be_visible()
    expect(operator.locator("#disputes tr.dispute-row")).to_have_count(1)
    expect(operator.locator("#audit-status")).to_contain_text("Intact")
    expect(operator.locator("#audit-status")).to_contain_text("The whole chain was walked")
    operator.reload()  # only the entries appended since the last page are walked now
    expect(operator.locator("#audit-status")).to_contain_text("were walked on an earlier page")
    operator.get_by_role("button", name="Check the whole chain").click()
    expect(operator.get_by_role("status")).to_contain_text("whole audit chain was walked")
    expect(operator.locator("#audit-status")).to_contain_text("The whole chain was walked")
    expect(operator.locator("#quarantine h2")).to_contain_text("Quarantine")
    # The operator hands a sign-in code to a person; it works once on the person's page.
    operator.get_by_label("Person id").fill(site.other)
    operator.get_by_role("button", name="Issue a code").click()
    code = operator.locator("#issued-code code").inner_text()
    person = new_page()
    person.goto(f"{site.base}/login")
    person.get_by_label("Person id").fill(site.other)
    person.get_by_label("One-time code").fill(code)
    person.get_by_role("button", name="Sign in").click()
    expect(person.locator("#score-value")).to_be_visible()


def test_an_overdue_dispute_is_red_in_the_queue(overdue: str, site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in_operator(page, site)
    row = page.locator(f"#disputes tr.dispute-row[data-dispute='{overdue}']")
    expect(row).to_have_class(re.compile("overdue"))
    expect(row.locator("td.due")).to_contain_text("overdue")
    colour = row.locator("td.due").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(176, 58, 46)"  # --bad
    fresh = page.locator("#disputes tr.dispute-row:not(.overdue)")
    expect(fresh).to_have_count(0)


def test_the_operator_decides_an_identity_review(review: int, site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in_operator(page, site)
    expect(page.locator("#reviews-h")).to_contain_text("2 pending")
    # the pair whose decision moves more events comes first
    expect(page.locator("#reviews tbody tr").first).to_have_attribute("data-review", str(review))
    row = page.locator(f"#reviews tr[data-review='{review}']")
    expect(row).to_contain_text("same name, different addresses")
    expect(row).to_contain_text("rec-a")
    # both records in clear: names, dates of birth, the id and phone masked to 4 digits
    expect(row.locator(".review-name").first).to_have_text("王芳")
    expect(row.locator(".review-birth")).to_have_text(["1990-03-04", "1990-04-03"])
    nid, phone = row.locator(".review-id").first, row.locator(".review-phone").first
    expect(nid).to_have_text(re.compile(r"^\*{14}[0-9X]{4}$"))
    expect(phone).to_have_text(re.compile(r"^\*+[0-9]{4}$"))
    expect(row.locator(".review-id").nth(1)).to_have_text("—")
    row.get_by_role("button", name="Different persons").click()
    expect(page.get_by_role("status")).to_have_text("Review item decided.")
    expect(page.locator("#reviews-h")).to_contain_text("1 pending")
    # A decision is final: the same pair cannot be decided again.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=site.base, cookies=cookies, headers={"Origin": site.base}) as c:
        csrf = page_token(c, "/console")
        again = c.post(f"/console/reviews/{review}", data={"decision": "accept", "csrf": csrf})
    assert again.status_code == 409
    assert "already rejected" in again.text


def test_the_review_queue_decrypts_for_its_view_and_is_audited(review: int, db: Path) -> None:
    from credo.identifiers import mask
    from credo.identity.review import review_queue

    with Store.open(Settings(db=db)) as store:
        before = store.scalar("SELECT count(*) FROM audit_log")
        cards = review_queue(store, actor="operator-1")
        assert cards[0].review_id == review
        assert cards[0].events_moved > cards[1].events_moved > 0
        nid = store.con.execute(
            "SELECT v.ciphertext FROM pii_vault v JOIN identity_records r"
            " ON r.national_id_hash = v.hash AND v.kind = 'national_id'"
            " WHERE r.record_id = 'rec-a'"
        ).fetchone()
        assert nid is not None
        number = store.keys.decrypt("national_id", bytes(nid[0]))
        assert cards[0].left.national_id == mask(number) and number[-4:] in mask(number)
        assert cards[0].right.national_id is None and cards[0].left.name == "王芳"
        entry = store.con.execute(
            "SELECT actor, details FROM audit_log WHERE action = 'read.identity_reviews'"
            " ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        assert store.scalar("SELECT count(*) FROM audit_log") == before + 1
    assert entry is not None and entry[0] == "operator-1"
    assert json.loads(entry[1]) == {"identifiers_decrypted": 2, "items": 2}


def test_pages_pass_axe_accessibility_checks(site: Site, new_page: Any) -> None:
    """axe-core (run in the page) finds no serious or critical WCAG violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    person = new_page()
    sign_in(person, site)
    operator = new_page()
    sign_in_operator(operator, site)
    login = new_page()
    login.goto(f"{site.base}/login")
    for page in (person, operator, login):
        results = axe.run(page)
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, [(v["id"], v["help"], len(v["nodes"])) for v in bad]


def test_a_new_user_is_told_the_score_waits_for_history(site: Site, new_page: Any) -> None:
    page = new_page()
    sign_in(page, site, site.other)
    expect(page.locator("#thin-note")).to_have_count(0)
    thin = new_page()
    sign_in(thin, site, site.thin)
    reason = thin.locator("details.reason").first
    expect(reason).to_contain_text("Not enough history")
    expect(reason.locator(".lost")).to_have_count(0)  # no "−0 points"
    expect(thin.locator("#thin-note")).to_contain_text("stays at 550")


def test_the_sign_in_page_limits_failed_codes(site: Site) -> None:
    """Five wrong codes in a minute, then even the right one waits (429, Retry-After)."""
    with httpx.Client(base_url=site.base, timeout=30, headers={"Origin": site.base}) as c:
        csrf = page_token(c)
        for _ in range(5):
            wrong = c.post(
                "/login", data={"person": site.other, "code": "000000-000000-000000", "csrf": csrf}
            )
            assert wrong.status_code == 401
        code = site.login_code(site.other)
        right = c.post("/login", data={"person": site.other, "code": code, "csrf": csrf})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
        assert "too many failed sign-ins" in right.text and "credo_session" not in right.cookies


CROSS_SITE = [
    {},
    {"Origin": "null"},
    {"Origin": "http://evil.example"},
    {"Referer": "http://evil.example/page"},
]


@pytest.mark.parametrize("sent_from", CROSS_SITE)
def test_a_form_not_shown_to_come_from_this_site_is_refused(
    site: Site, sent_from: dict[str, str]
) -> None:
    """Only an Origin (or a Referer) naming this host lets a form through; the code stays
    unused and no session cookie is set."""
    code = site.login_code(site.other)
    with httpx.Client(base_url=site.base, timeout=30, headers=sent_from) as c:
        csrf = page_token(c)
        refused = c.post("/login", data={"person": site.other, "code": code, "csrf": csrf})
        assert refused.status_code == 401 and "not sent from this site" in refused.text
        assert "credo_session" not in refused.cookies
        assert c.post("/logout", data={"csrf": csrf}).status_code == 401
    with httpx.Client(
        base_url=site.base, timeout=30, headers={"Referer": f"{site.base}/login"}
    ) as c:
        csrf = page_token(c)
        form = {"person": site.other, "code": code, "csrf": csrf}
        assert c.post("/login", data=form).status_code == 303


@pytest.fixture
def regime_run(db: Path) -> RegimeStanding:
    """A suining-2010 run over the copy before the server opens it: the standing of the person
    with the lowest balance that has ledger entries."""
    with Store.open(Settings(db=db)) as store:
        run = score(store, END, policy="suining-2010")
        (lowest,) = lowest_standings(store, run.run_id, 1)
        assert regime_standings(store, lowest.person_id) == [lowest]
        store.con.execute("CHECKPOINT")
    return lowest


def test_the_page_publishes_the_scale_and_the_points_ledger(
    regime_run: RegimeStanding, site: Site, new_page: Any
) -> None:
    standing = regime_run
    page = new_page()
    sign_in(page, site, standing.person_id)
    held = file_via_api(site, standing.person_id)
    scale = page.locator("#scale")
    expect(scale.locator("tbody tr")).to_have_count(5)
    expect(scale).to_contain_text("points double the odds of repaying")
    expect(scale.locator("tr.mine")).to_contain_text(held["scores"][-1]["band"])
    regime = page.locator("#regimes .regime[data-regime=suining-2010]")
    expect(regime.locator(".balance")).to_have_text(str(standing.balance))
    expect(regime.locator(".grade")).to_have_text(standing.grade)
    rows = regime.locator("table.ledger tbody tr")
    expect(rows).to_have_count(len(standing.ledger))
    for k, entry in enumerate(standing.ledger):
        expect(rows.nth(k)).to_contain_text(entry["source_record_id"])
        expect(rows.nth(k)).to_contain_text(entry["rule_text"])  # in words, not its code
        expect(rows.nth(k)).to_contain_text(f"{entry['points']:+d}")
