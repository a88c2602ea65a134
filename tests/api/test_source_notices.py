"""Notice before processing (RULES R-PIPL-2, decision 0692): a source's first data about a
person gives the person a notice naming the furnisher, the data, the purposes, the retention and
their rights before any score uses it; the privacy notice is also in Chinese, same figures."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from fastapi.testclient import TestClient

from credo.api import create_app
from credo.dashboard.views import PURPOSE_LABELS_ZH
from credo.policy.rules import load_rules
from credo.purposes import PURPOSE_LABELS
from credo.rights.source_notices import source_notices
from credo.scoring import score
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow

from .conftest import ADMIN, END, api_settings, scored_persons, sign_in

CONTACT = "Credo Ltd, 1 Main St, privacy@credo.example"


def _furnish(store: Store, person: str, at: dt.datetime) -> None:
    """A new source's first record about the person, loaded and linked as a file load is."""
    with store.write(AuditEntry("test", "furnish")) as con:
        event_id = con.execute("SELECT max(event_id) + 1 FROM events").fetchall()[0][0]
        con.execute(
            "INSERT INTO events_bill (event_id, source, load_id, row_no,"
            " recorded_at, source_record_id, occurred_at, bill_kind, amount, due_date)"
            " VALUES (?, 'acme_water', 0, 1, ?, 'W1', ?, 'utility', 30, ?)",
            [event_id, at, dt.datetime(2026, 10, 10), dt.date(2026, 10, 25)],
        )
        con.execute("INSERT INTO event_persons VALUES (?, 'subject', ?, ?)", [event_id, person, at])


def _main(page: str) -> str:
    return html.unescape(page.split("<main", 1)[1].split("</main>", 1)[0])


def test_R_PIPL_2_a_source_s_first_data_is_noticed_before_a_score_uses_it(db: Path) -> None:
    person = scored_persons(db, 1)[0]
    settings = Settings(db=db, rules_profile="cn-crr")
    rules = load_rules("cn-crr")
    with Store.open(settings) as store:
        assert "acme_water" not in {n["furnisher"] for n in source_notices(store, person)}
        received = utcnow()
        _furnish(store, person, received)
        (notice,) = [n for n in source_notices(store, person) if n["furnisher"] == "acme_water"]
        assert notice["received_at"] == received and notice["first_scored_in"] is None
        run = score(store, END)  # the first run whose watermark holds the new record
        (notice,) = [n for n in source_notices(store, person) if n["furnisher"] == "acme_water"]
        assert notice["first_scored_in"]["run_id"] == run.run_id
        assert notice["received_at"] <= notice["first_scored_in"]["created_at"]
        # Every source of the person's scored data has its notice, none after its first run.
        for n in source_notices(store, person):
            assert n["first_scored_in"] is not None, n["furnisher"]
            assert n["received_at"] <= n["first_scored_in"]["created_at"], n["furnisher"]
    assert {"bills and whether they were paid (utility, rent, phone, fines, tax)"} == set(
        notice["data_types"]
    )
    assert notice["purposes"] == [PURPOSE_LABELS[p] for p in rules.reports.purposes]
    assert notice["retention"]["adverse_years"] == 5
    assert "5 years after the end of the act" in notice["retention"]["text"]
    assert any(f"within {rules.disputes.days} days" in r for r in notice["rights"])
    assert notice["controller"]["name"] == "Credo"

    with TestClient(create_app(settings, api_settings(privacy_contact=CONTACT))) as c:
        me = sign_in(c, {"Authorization": f"Bearer {ADMIN}"}, person)
        listed = c.get("/v1/me/source-notices", headers=me).json()
        assert "acme_water" in {n["furnisher"] for n in listed}
        feed = c.get("/v1/me/feed", headers=me).json()
        (alert,) = [a for a in feed if a["ref"] == "src_acme_water"]
        assert alert["kind"] == "furnished_data" and "acme water furnished data" in alert["text"]

        # The privacy notice in Chinese, asked for or by the browser's language, same figures.
        english = _main(c.get("/privacy").text)
        chinese = _main(c.get("/privacy", params={"lang": "zh"}).text)
        by_header = c.get("/privacy", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
        assert _main(by_header.text) == chinese and 'lang="zh"' in by_header.text
        assert "隐私政策" in chinese and "隐私政策" not in english.split("<h1>")[1][:20]
    assert CONTACT in chinese
    assert f"起 {rules.retention.adverse_years} 年后删除" in chinese
    assert f"{rules.disputes.days} 日内答复" in chinese
    for purpose in rules.reports.purposes:
        assert PURPOSE_LABELS_ZH[purpose] in chinese, purpose
    assert set(PURPOSE_LABELS_ZH) == set(PURPOSE_LABELS)
    figures = [sorted(re.findall(r"\d+", text)) for text in (english, chinese)]
    assert figures[0] == figures[1] and str(rules.notices.request_response_days) in figures[0]
