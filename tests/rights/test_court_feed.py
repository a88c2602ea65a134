"""The court's own feed (RULES R-BL-3, R-BL-6): a satisfaction loaded from the court list file,
or sent to the service, ends the listing for the person at once and tells the partners that
decided on them; a record of a case never listed is left to identity resolution."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import ValidationError
from support import run_cli

from credo.access import create_partner
from credo.errors import NotFoundError
from credo.features import PointInTime
from credo.features.sql import LISTING_GRACE_MONTHS, listings_sql
from credo.identity.event_persons import place_new_events, rebuild_event_persons
from credo.identity.records import event_record_key_sql
from credo.ingest.events import CourtJudgmentEvent, JudgmentStatus
from credo.ingest.loader import ingest
from credo.policy.rules import load_rules
from credo.rights.audited import append_event
from credo.rights.court_feed import apply_court_feed, expire_listings, record_court_update
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import insert, rows
from credo.store.schema import stored_hashes

COURT = "北京市朝阳区人民法院"
CASE = "(2026)京0105执1234"
HEADER = (
    "id,iname,caseCode,age,sex,cardNum,businessEntity,courtName,areaName,gistId,gistUnit,duty,"
    "dutyAmount,performance,performedPart,unperformPart,disruptTypeName,regDate,publishDate,"
    "performDate\n"
)


def _listing(
    store: Store,
    person: str,
    case: str,
    on: dt.date,
    conduct: str = "违反财产报告制度",
    **fields: object,
) -> int:
    listing = CourtJudgmentEvent.model_validate(
        {
            "source_record_id": f"rec-{case}",
            "occurred_at": dt.datetime.combine(on, dt.time()),
            "court": COURT,
            "case_number": case,
            "amount": Decimal("8000.00"),
            "listed_on": on,
            "judgment_status": "listed",
            "dishonest_conduct": conduct,
            "basis_document": "(2025)京0105民初1号",
            "obligation": "偿还借款本金8000.00元",
        }
        | fields
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


def _listing_file(folder: Path, rows_: list[str]) -> Path:
    feed = folder / "dishonest.csv"
    feed.write_text(HEADER + "".join(rows_), encoding="utf-8")
    return feed


def _row(record: str, case: str, *, gist: str, duty: str, card: str, status: str = "未履行") -> str:
    status = "全部已履行" if status == "已履行" else "部分未履行"
    performed = "8000.00" if status == "全部已履行" else "2000.00"
    return (
        f"{record},张三,{case},40,男,{card},,{COURT},北京,{gist},{COURT},{duty},8000.00,{status},"
        f"{performed},6000.00,违反财产报告制度,2026年06月01日,2026年06月02日,\n"
    )


def test_R_BL_1_a_listing_carries_its_basis_document_and_obligation(
    store: Store, tmp_path: Path
) -> None:
    """The service refuses a listing without its basis; a file's listing without its basis
    document, obligation or identity number is quarantined naming the field, and a whole one
    keeps every field of RULES.md §2.3."""
    with pytest.raises(ValidationError, match="field basis_document"):
        CourtJudgmentEvent(
            source_record_id="r1", occurred_at=dt.datetime(2026, 6, 2), court=COURT,
            case_number=CASE, amount=Decimal("8000.00"), listed_on=dt.date(2026, 6, 1),
            judgment_status="listed", dishonest_conduct="违反财产报告制度",
            obligation="偿还借款本金8000.00元",
        )  # fmt: skip
    card = "110105198601011234"
    feed = _listing_file(tmp_path, [
        _row("7100011", "(2026)京0105执11", gist="(2025)京0105民初1号", duty="偿还借款8000元",
             card=card),
        _row("7100012", "(2026)京0105执12", gist="", duty="偿还借款8000元", card=card),
        _row("7100013", "(2026)京0105执13", gist="(2025)京0105民初3号", duty="", card=card),
        _row("7100014", "(2026)京0105执14", gist="(2025)京0105民初4号", duty="偿还借款8000元",
             card=""),
        # a satisfaction is an update of a listed case: its basis is the listing's
        _row("7100015", "(2026)京0105执11", gist="", duty="", card=card, status="已履行"),
    ])  # fmt: skip
    report = ingest(store, feed, "court_list", max_reject_rate=1.0)
    assert (report.rows_accepted, report.rows_rejected) == (2, 3)
    refused = {
        (r["row"], r["field"]): r["reason"]
        for r in rows(store.con, "SELECT row_no AS row, field, reason FROM quarantine")
    }
    assert set(refused) == {(2, "basis_document"), (3, "obligation"), (4, "national_id")}
    assert "R-BL-1" in refused[(2, "basis_document")] and "R-BL-5" in refused[(4, "national_id")]
    (listing,) = rows(
        store.con,
        "SELECT court, case_number, basis_document, basis_issuer, obligation, amount,"
        " performed_amount, dishonest_conduct, judgment_status FROM events"
        " WHERE event_type = 'court_judgment' AND judgment_status = 'listed'",
    )
    assert listing == {
        "court": COURT, "case_number": "(2026)京0105执11", "basis_document": "(2025)京0105民初1号",
        "basis_issuer": COURT, "obligation": "偿还借款8000元", "amount": Decimal("8000.00"),
        "performed_amount": Decimal("2000.00"), "dishonest_conduct": "违反财产报告制度",
        "judgment_status": "listed",
    }  # fmt: skip


def test_R_BL_2_a_listing_counts_only_after_the_grace_from_its_notice(store: Store) -> None:
    """Notice served on 10 June; the court listed on 15 June, inside the month's grace: the
    listing counts from 10 July, not before, and not at all in a report before then."""
    _listing(store, "P1", CASE, dt.date(2026, 6, 15), notice_served_on=dt.date(2026, 6, 10))
    _listing(store, "P2", "(2026)京0105执2", dt.date(2026, 6, 15))  # no notice date given
    assert _in_force(store, dt.date(2026, 7, 9)) == ["P2"]
    assert sorted(_in_force(store, dt.date(2026, 7, 10))) == ["P1", "P2"]
    pit = PointInTime(dt.date(2026, 7, 9), dt.datetime(2100, 1, 1))
    without = [r["person_id"] for r in rows(store.con, listings_sql(pit, grace_months=0))]
    assert sorted(without) == ["P1", "P2"]
    three = PointInTime(dt.date(2026, 9, 9), dt.datetime(2100, 1, 1))
    assert [r["person_id"] for r in rows(store.con, listings_sql(three, grace_months=3))] == ["P2"]
    # the constant used where no profile is at hand is the default profile's figure
    assert load_rules("default").court_list.grace_months == LISTING_GRACE_MONTHS


def test_R_BL_3_an_aggravated_case_is_extended_by_the_courts_years(store: Store) -> None:
    _listing(store, "P1", "(2024)京0105执1", dt.date(2024, 6, 1), extension_years=2)
    _listing(store, "P2", "(2024)京0105执2", dt.date(2024, 6, 1))
    (ended,) = expire_listings(store, now=dt.datetime(2026, 6, 1, 9))
    assert ended.person_id == "P2"
    assert expire_listings(store, now=dt.datetime(2028, 5, 31, 9)) == []
    (ended,) = expire_listings(store, now=dt.datetime(2028, 6, 1, 9))
    assert (ended.person_id, ended.status) == ("P1", "expired")
    with pytest.raises(ValidationError, match="less than or equal to 3"):
        _listing(store, "P3", "(2024)京0105执3", dt.date(2024, 6, 1), extension_years=4)


NID_ZHANG = "00000000000000000000000000000001"  # identifier hashes as HMACs give them: 32 hex


def _court_event(
    store: Store, record: str, case: str, nid: str | None, source: str, status: str = "listed"
) -> int:
    """A court_judgment (listing) or loan event written as a load would, with its identifiers."""
    event_id = int(store.scalar("SELECT coalesce(max(event_id), 0) + 1 FROM events"))
    values: dict[str, object] = {
        "event_id": event_id, "source": source, "load_id": 9,
        "row_no": event_id, "recorded_at": dt.datetime(2026, 6, 2),
        "source_record_id": record, "occurred_at": dt.datetime(2026, 6, 1), "name": "张三",
        "national_id_hash": nid, "court": COURT, "case_number": case,
        "amount": Decimal("8000.00"), "listed_on": dt.date(2026, 6, 1),
        "judgment_status": status, "dishonest_conduct": "违反财产报告制度",
        "basis_document": "(2025)京0105民初1号", "obligation": "偿还借款本金8000.00元",
    }  # fmt: skip
    table = "events_court_judgment"
    if source != "court_list":  # the same person as another source knows them
        values = {k: values[k] for k in list(values)[:9]} | {"loan_event": "opened",
                  "account_id": record}  # fmt: skip
        table = "events_loan"
    insert(store.con, table, stored_hashes(values))
    return event_id


@pytest.mark.parametrize("run", ["full", "incremental"])
def test_R_BL_5_a_listing_holds_a_person_only_on_their_identity_number(
    store: Store, run: str
) -> None:
    """Resolution joined four listings to persons: only those whose person another source
    knows by the listing's own identity number (or who are known from the court alone) are
    placed; a namesake's listing and one without a number are placed nowhere, even where
    they had a subject before (the Ningbo error case). The same in a full run and in an
    incremental one, which places only the events it has not seen (decision 0305)."""
    _court_event(store, "bank-1", "", NID_ZHANG, "bank")
    own = _court_event(store, "c-1", "(2026)京0105执1", NID_ZHANG, "court_list")
    namesake = _court_event(store, "c-2", "(2026)京0105执2", "0" * 31 + "2", "court_list")
    unnumbered = _court_event(store, "c-3", "(2026)京0105执3", None, "court_list")
    alone = _court_event(store, "c-4", "(2026)京0105执4", "0" * 31 + "3", "court_list")
    # the court's later record of the own case, without a number: linked by the feed, kept
    paid = _court_event(store, "c-5", "(2026)京0105执5", None, "court_list", "satisfied")
    key = event_record_key_sql("e")
    for event_id, person in ((1, "P1"), (own, "P1"), (namesake, "P1"), (unnumbered, "P1"),
                             (alone, "P4"), (paid, "P1")):  # fmt: skip
        store.con.execute(
            "INSERT INTO identity_records (record_id, source, subject_ref, name, birth_date, sex,"
            " national_id_hash, phone_hash, address, first_seen_at, person_id)"
            f" SELECT DISTINCT {key}, source, subject_ref, name,"
            " birth_date, sex, national_id_hash, phone_hash, address, recorded_at, ?"
            f" FROM events e WHERE event_id = ? ON CONFLICT DO NOTHING",
            [person, event_id],
        )
    insert(store.con, "event_persons", {"event_id": namesake, "role": "subject",
           "person_id": "P1", "linked_at": dt.datetime(2026, 6, 2)})  # fmt: skip
    merged = pa.table({"old": pa.array([], pa.string()), "new": pa.array([], pa.string())})
    if run == "full":
        rebuild_event_persons(store.con, merged, dt.datetime(2026, 6, 3))
    else:  # every event is new to it; no record of this run names a counterpart
        store.con.execute(
            "CREATE TEMP TABLE credo_new_records AS SELECT * FROM identity_records LIMIT 0"
        )
        place_new_events(store.con, merged, dt.datetime(2026, 6, 3), through=0)
    placed = dict(store.con.execute(
        "SELECT event_id, person_id FROM event_persons WHERE role = 'subject'"
    ).fetchall())  # fmt: skip
    assert placed == {1: "P1", own: "P1", alone: "P4", paid: "P1"}
    assert sorted(_in_force(store, dt.date(2026, 8, 1))) == ["P1", "P4"]
    cases = [r["case_number"] for r in rows(store.con, listings_sql(PointInTime(
        dt.date(2026, 8, 1), dt.datetime(2100, 1, 1))) + " ORDER BY 1")]  # fmt: skip
    assert cases == ["(2026)京0105执1", "(2026)京0105执4"]
