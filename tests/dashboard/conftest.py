"""A scored population, a real uvicorn server over a copy of it, and headless Chromium.

The browser is Debian's ``chromium`` (``make test`` installs it), driven by Playwright through
``executable_path``: Playwright's own browser download is not used. Every test saves a
screenshot under ``build/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from scoring.truth import link_from_truth
from support import free_port

from credo.api import ApiSettings, create_app
from credo.ingest.batch import ingest_population
from credo.ingest.events import CourtJudgmentEvent
from credo.rights import append_event
from credo.scoring import rescore_person, score, train_model
from credo.settings import Settings
from credo.sim import generate
from credo.store.audit import AuditEntry
from credo.store.db import Store

# CI shares its two cores with other jobs, and a page's answer (sending a dispute, a rescore)
# can then take longer than Playwright's 5 s default: the assertions wait up to 20 s, as
# the API page's does, and still fail when the text never comes.
expect.set_options(timeout=20_000)

END = dt.date(2026, 10, 31)
MONTHS = (dt.date(2026, 7, 31), dt.date(2026, 8, 31), dt.date(2026, 9, 30), END)
ADMIN = "operator-token-" + "x" * 30
CASE = "(2026)京0105执7788"
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def population_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 persons over 24 months (the API tests' population), linked from the truth, trained,
    scored at 4 month-ends."""
    root = tmp_path_factory.mktemp("dashboard")
    generate(300, 24, 5, root / "pop", END)
    db = root / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, root / "pop", max_reject_rate=0.01)
        link_from_truth(store, root / "pop")
        model = train_model(store, dt.date(2025, 10, 31)).model
        for month in MONTHS:
            score(store, month, model)
        store.con.execute("CHECKPOINT")
    return db


@dataclass
class Site:
    base: str
    db: Path
    person: str  # well scored, then listed by a court (the dispute story)
    other: str  # another scored person
    thin: str  # a person without enough history

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        with httpx.Client(base_url=self.base, timeout=30) as c:
            r = c.request(method, path, headers={"Authorization": f"Bearer {ADMIN}"}, **kw)
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def login_code(self, person: str | None = None) -> str:
        code: str = self.admin("POST", f"/admin/persons/{person or self.person}/login-codes")[
            "code"
        ]
        return code

    def partner_key(self, partner: str = "skyair", name: str = "Sky Air") -> str:
        self.admin("POST", "/admin/partners", json={"partner_id": partner, "name": name})
        key: str = self.admin("POST", f"/admin/partners/{partner}/keys",
                              json={"scopes": ["decisions"]})["key"]  # fmt: skip
        return key


def _top_persons(db: Path, n: int) -> list[str]:
    with Store.open(Settings(db=db)) as store:
        rows = store.con.execute(
            "SELECT person_id FROM score_snapshots WHERE as_of = ? AND NOT not_enough_history"
            " AND len(court_listings) = 0 ORDER BY score DESC, person_id LIMIT ?",
            [END, n],
        ).fetchall()
    return [r[0] for r in rows]


def list_by_court(db: Path, person: str) -> None:
    """A judgment listed in June (paid in August, but the payment was never recorded)."""
    listing = CourtJudgmentEvent(
        source_record_id=CASE,
        occurred_at=dt.datetime(2026, 6, 1),
        court="北京市朝阳区人民法院",
        case_number=CASE,
        amount=Decimal("8000.00"),
        listed_on=dt.date(2026, 6, 1),
        judgment_status="listed",
        dishonest_conduct="违反财产报告制度",
        basis_document="(2025)京0105民初1号",
        obligation="偿还借款本金8000.00元",
    )
    with Store.open(Settings(db=db)) as store:
        with store.write(AuditEntry("court_feed", "ingest")) as con:
            append_event(con, listing, source="court_list", person_id=person,
                         recorded_at=dt.datetime.now())  # fmt: skip
        rescore_person(store, person, END)


def new_user(db: Path, person: str = "NEW0000001") -> str:
    """A person who enrolled this month with one payment: a thin file, scored at once."""
    from credo.ingest.events import PaymentEvent
    from credo.rights import record_consent

    now = dt.datetime(2026, 10, 20)
    with Store.open(Settings(db=db)) as store:
        with store.write(AuditEntry("test", "new_person")) as con:
            con.execute("INSERT INTO persons VALUES (?, ?, 'active')", [person, now])
        record_consent(store, person, "enrol", now=now)
        payment = PaymentEvent(source_record_id="new-1", occurred_at=now, amount=Decimal("12"),
                               merchant_category="grocery")  # fmt: skip
        with store.write(AuditEntry("test", "ingest")) as con:
            append_event(con, payment, source="payments", person_id=person, recorded_at=now)
        rescore_person(store, person, END)
    return person


@pytest.fixture
def db(population_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "credo.duckdb"
    shutil.copy(population_db, target)
    shutil.copy(population_db.with_suffix(".key"), target.with_suffix(".key"))
    return target


@pytest.fixture
def overdue(db: Path) -> str:
    """A dispute opened 31 days ago and never decided (the server's expiry loop is off)."""
    from credo.rights import open_dispute

    other = _top_persons(db, 2)[1]
    with Store.open(Settings(db=db)) as store:
        (event_id,) = store.con.execute(
            "SELECT min(event_id) FROM event_persons WHERE person_id = ? AND role = 'subject'",
            [other],
        ).fetchone() or (None,)
        opened = dt.datetime.now() - dt.timedelta(days=31)
        return open_dispute(store, other, int(event_id), "not mine", now=opened).dispute_id


@pytest.fixture
def review(db: Path) -> int:
    """Two source records of two persons, put up for review (as a "this isn't me" would).

    rec-a carries a national id and a phone from the vault (so the queue has something to
    decrypt); a second item, between persons with fewer events, must
    be listed after it."""
    from credo.identity.review import add_review

    a, b = _top_persons(db, 4)[2:]
    with Store.open(Settings(db=db)) as store:
        nid, phone = (
            store.scalar(f"SELECT min(hash) FROM pii_vault WHERE kind = '{kind}'")
            for kind in ("national_id", "phone")
        )
        assert nid is not None and phone is not None
        fewest = store.con.execute(
            "SELECT person_id FROM event_persons WHERE role = 'subject' GROUP BY person_id"
            " ORDER BY count(*), person_id LIMIT 2"
        ).fetchall()
        with store.write(AuditEntry("test", "identity_records")) as con:
            for record, person, name, born, n, p in (
                ("rec-a", a, "王芳", dt.date(1990, 3, 4), nid, phone),
                ("rec-b", b, "王芳", dt.date(1990, 4, 3), None, None),
                ("rec-c", fewest[0][0], "李伟", None, None, None),
                ("rec-d", fewest[1][0], "李伟", None, None, None),
            ):
                con.execute(
                    "INSERT INTO identity_records (record_id, source, name, birth_date,"
                    " national_id_hash, phone_hash, first_seen_at, person_id)"
                    " VALUES (?, 'phone_bills', ?, ?, ?, ?, ?, ?)",
                    [record, name, born, n, p, dt.datetime(2026, 1, 1), person],
                )
        add_review(store, "rec-c", "rec-d", "same name, nothing else")
        return add_review(store, "rec-a", "rec-b", "same name, different addresses").review_id


@pytest.fixture
def site(db: Path) -> Iterator[Site]:
    """A real server on 127.0.0.1 over a fresh copy; the first person is listed by a court."""
    person, other = _top_persons(db, 2)
    list_by_court(db, person)
    thin = new_user(db)
    port = free_port()
    api = ApiSettings(admin_token=ADMIN, background_seconds=0)
    srv = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings(db=db), api), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", db, person, other, thin)
    srv.should_exit = True
    thread.join(15)


# Package scope, not session: sync Playwright keeps an event loop running in the main thread
# while it is open, and tests after this package call asyncio.run().
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: 'make test' installs Debian's chromium"
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    yield b
    b.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Pages in fresh contexts (no shared cookies); each is screenshotted when the test ends."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        contexts.append(context)
        return context.new_page()

    yield make
    SHOTS.mkdir(parents=True, exist_ok=True)
    for k, context in enumerate(contexts):
        for page in context.pages:
            path = SHOTS / f"{request.node.name}-{k}.png"
            try:
                page.screenshot(path=path, full_page=True)
            except PlaywrightError:  # a page taller than Chromium can capture in one image
                page.screenshot(path=path)
        context.close()


def sign_in(page: Page, site: Site, person: str | None = None) -> None:
    page.goto(f"{site.base}/login")
    page.get_by_label("Person id").fill(person or site.person)
    page.get_by_label("One-time code").fill(site.login_code(person))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.base}/me")


def sign_in_operator(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/console/login")
    page.get_by_label("Admin token").fill(ADMIN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.base}/console")


def file_via_api(site: Site, person: str | None = None) -> dict[str, Any]:
    """The person's file through the JSON API: what the page must agree with."""
    person = person or site.person
    with httpx.Client(base_url=site.base, timeout=30) as c:
        r = c.post("/v1/me/session", json={"person": person, "code": site.login_code(person)})
        token = r.json()["token"]
        held: dict[str, Any] = c.get(
            "/v1/me/file", headers={"Authorization": f"Bearer {token}"}
        ).json()
    return held
