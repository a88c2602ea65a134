"""The court's own feed (RULES R-BL-3, R-BL-6): a satisfaction loaded from the court list file,
or sent to the service, ends the listing for the person at once and tells the partners that
decided on them; a record of a case never listed is left to identity resolution."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from support import run_cli

from credo.access import create_partner
from credo.errors import NotFoundError
from credo.features import PointInTime
from credo.features.sql import listings_sql
from credo.ingest.events import CourtJudgmentEvent, JudgmentStatus
from credo.ingest.loader import ingest
from credo.rights.audited import append_event
from credo.rights.court_feed import apply_court_feed, expire_listings, record_court_update
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import insert, rows

COURT = "北京市朝阳区人民法院"
CASE = "(2026)京0105执1234"
HEADER = (
    "id,iname,caseCode,age,sex,cardNum,businessEntity,courtName,areaName,gistId,gistUnit,duty,"
    "dutyAmount,performance,performedPart,unperformPart,disruptTypeName,regDate,publishDate,"
    "performDate\n"
)


def _listing(store: Store, person: str, case: str, on: dt.date, conduct: str | None = None) -> int:
    listing = CourtJudgmentEvent(
        source_record_id=f"rec-{case}",
        occurred_at=dt.datetime.combine(on, dt.time()),
        court=COURT,
        case_number=case,
        amount=Decimal("8000.00"),
        listed_on=on,
        judgment_status="listed",
        dishonest_conduct=conduct,
    )
    with store.write(AuditEntry("court_feed", "ingest")) as con:
        return append_event(
            con, listing, source="court_list", person_id=person,
            recorded_at=dt.datetime.combine(on, dt.time()) + dt.timedelta(days=1),
        )  # fmt: skip


def _listed(store: Store, person: str = "P1") -> int:
    """P1 listed in June; Sky Air decided on P1 in July (after the listing was recorded)."""
    create_partner(store, "skyair", "Sky Air", webhook_url="http://127.0.0.1:9/hook")
    event_id = _listing(store, person, CASE, dt.date(2026, 6, 1))
    with store.write(AuditEntry("court_feed", "inquiry")) as con:
        insert(con, "inquiries", {"inquiry_id": "inq1", "person_id": person,
               "partner_id": "skyair", "kind": "decision", "purpose": "travel",
               "disclosed": "{}", "ref_id": "dec1",
               "inquired_at": dt.datetime(2026, 7, 1)})  # fmt: skip
    return event_id


def _in_force(store: Store, day: dt.date) -> list[str]:
    pit = PointInTime(day, dt.datetime(2100, 1, 1))
    return [r["person_id"] for r in rows(store.con, listings_sql(pit))]


def _notices(store: Store) -> list[dict[str, object]]:
    return [json.loads(r["payload"]) for r in rows(store.con, "SELECT payload FROM webhook_outbox")]


def _satisfaction_file(folder: Path) -> Path:
    """The court list's own update of the case: performed in full on 15 August."""
    feed = folder / "dishonest.csv"
    feed.write_text(
        HEADER + f"7100002,张三,{CASE},40,男,110105198601011234,,{COURT},北京,(2025)京0105民初1,"
        f"{COURT},偿还借款本金8000.00元,8000.00,全部已履行,8000.00,0.00,违反财产报告制度,"
        "2026年06月01日,2026年08月16日,2026年08月15日\n",
        encoding="utf-8",
    )
    return feed


def test_R_BL_6_credo_ingest_acts_on_the_courts_file_at_once(
    settings: Settings, tmp_path: Path
) -> None:
    with Store.open(settings) as store:
        _listed(store)
    run_cli("ingest", str(_satisfaction_file(tmp_path)), "--source", "court_list",
            db=settings.db, check=True)  # fmt: skip
    with Store.open(settings) as store:
        assert _in_force(store, dt.date(2026, 12, 1)) == []
        assert [n["type"] for n in _notices(store)] == ["court_list"]


def test_R_BL_6_a_loaded_satisfaction_lifts_the_listing_and_tells_partners(
    store: Store, tmp_path: Path
) -> None:
    _listed(store)
    assert _in_force(store, dt.date(2026, 8, 20)) == ["P1"]
    report = ingest(store, _satisfaction_file(tmp_path), "court_list")
    assert report.load_id is not None
    done = apply_court_feed(store, report.load_id, now=dt.datetime(2026, 8, 16, 9))
    assert [(u.person_id, u.status, u.notified) for u in done] == [("P1", "satisfied", ("skyair",))]
    assert _in_force(store, dt.date(2026, 8, 20)) == []
    (notice,) = _notices(store)
    assert notice["type"] == "court_list" and notice["person"] == "P1"
    assert notice["affected"] == ["dec1"] and notice["status"] == "satisfied"


def _update(record_id: str, case: str, status: JudgmentStatus) -> CourtJudgmentEvent:
    """An update of a June listing, published by the court on 16 August."""
    return CourtJudgmentEvent(
        source_record_id=record_id,
        occurred_at=dt.datetime(2026, 8, 16),
        court=COURT,
        case_number=case,
        amount=Decimal("8000.00"),
        listed_on=dt.date(2026, 6, 1),
        judgment_status=status,
    )


def test_R_BL_3_a_withdrawal_sent_to_the_service_ends_the_listing(store: Store) -> None:
    _listed(store)
    update = _update("7100003", CASE, "revoked")
    done = record_court_update(store, update, now=dt.datetime(2026, 8, 16, 9))
    assert done.person_id == "P1" and done.notified == ("skyair",)
    assert done.rescored_run_id is None  # never scored: nothing to refresh
    assert _in_force(store, dt.date(2026, 8, 16)) == []
    assert _in_force(store, dt.date(2026, 8, 15)) == ["P1"]  # history is kept


def test_an_update_of_a_case_never_listed_is_refused_and_changes_nothing(store: Store) -> None:
    _listed(store)
    update = _update("7100004", "(2026)京0105执9999", "satisfied")
    before = store.scalar("SELECT count(*) FROM events")
    with pytest.raises(NotFoundError, match="no listing of case"):
        record_court_update(store, update, now=dt.datetime(2026, 8, 16, 9))
    assert store.scalar("SELECT count(*) FROM events") == before and _notices(store) == []


def test_R_BL_3_a_listing_ends_when_its_fixed_term_does(store: Store) -> None:
    """Two years under the profile, for triggers (2)-(6); refusing while able has no term."""
    _listing(store, "P1", "(2024)京0105执1", dt.date(2024, 6, 1), "违反财产报告制度")
    _listing(store, "P2", "(2024)京0105执2", dt.date(2024, 6, 1),
             "有履行能力而拒不履行生效法律文书确定义务")  # fmt: skip
    _listing(store, "P3", "(2025)京0105执3", dt.date(2025, 6, 1), "违反限制消费令")
    assert expire_listings(store, now=dt.datetime(2026, 5, 31, 9)) == []
    (ended,) = expire_listings(store, now=dt.datetime(2026, 6, 1, 9))
    assert (ended.person_id, ended.status) == ("P1", "expired")
    assert ended.case_number == "(2024)京0105执1"
    assert sorted(_in_force(store, dt.date(2026, 6, 1))) == ["P2", "P3"]
    assert _in_force(store, dt.date(2026, 5, 31)).count("P1") == 1  # history is kept
    assert expire_listings(store, now=dt.datetime(2026, 6, 2, 9)) == []  # once only
