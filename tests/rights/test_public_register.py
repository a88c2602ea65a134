"""RULES R-GDPR-4 (the SCHUFA ruling, C-26/22): a record copied from a public register is kept
no longer than the register keeps it. Under a profile with ``public_register_cap`` a court
listing's records go ``public_register_months`` after the court lifts it, a bankruptcy that long
after its discharge; a listing in force and an undischarged bankruptcy are still shown by the
register, so the cap does not apply to them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from credo.ingest.events import CourtJudgmentEvent, LoanEvent
from credo.policy.rules import load_rules
from credo.rights.audited import append_event
from credo.rights.file import person_file
from credo.scoring.retention import purge_date, retention_run
from credo.settings import Settings
from credo.store.audit import AuditEntry, verify
from credo.store.db import Store
from credo.store.rows import insert

CASE = "(2023)沪0101执123"


def test_R_GDPR_4_a_public_register_copy_is_kept_no_longer_than_the_register() -> None:
    gdpr, fcra = load_rules("eu-gdpr").retention, load_rules("us-fcra").retention
    assert gdpr.public_register_cap and gdpr.public_register_months == 6
    bankruptcy = {"event_type": "loan", "loan_event": "bankruptcy",
                  "occurred_at": dt.date(2020, 5, 4),
                  "paid_date": dt.date(2021, 1, 31)}  # fmt: skip
    assert purge_date([bankruptcy], gdpr) == dt.date(2021, 7, 31)  # discharge + 6 months
    assert purge_date([bankruptcy], fcra) == dt.date(2030, 5, 4)  # no cap: 10 years from order
    running = bankruptcy | {"paid_date": None}  # not discharged: the register still shows it
    assert purge_date([running], gdpr) == dt.date(2023, 5, 4)  # 3 years (bankruptcy_years)
    lifted = {"event_type": "court_judgment", "occurred_at": dt.date(2019, 3, 1),
              "listed_on": dt.date(2019, 3, 1), "case_ended_on": dt.date(2024, 8, 31)}  # fmt: skip
    assert purge_date([lifted], gdpr) == dt.date(2025, 2, 28)  # lifted + 6 months
    in_force = lifted | {"case_ended_on": None}
    assert purge_date([in_force], gdpr) is None  # only the court ends a listing


def _court(store: Store, record: str, status: str, on: dt.date) -> None:
    event = CourtJudgmentEvent(
        source_record_id=record, occurred_at=dt.datetime.combine(on, dt.time()),
        court="上海市黄浦区人民法院", case_number=CASE, amount=Decimal("12000.00"),
        listed_on=dt.date(2023, 2, 1), judgment_status=status,
        satisfied_on=on if status == "satisfied" else None,
        dishonest_conduct="违反财产报告制度", basis_document="(2022)沪0101民初1号",
        obligation="偿还借款本金12000.00元",
    )  # fmt: skip
    with store.write(AuditEntry("test", "ingest")) as con:
        append_event(con, event, source="court_list", person_id="P1",
                     recorded_at=dt.datetime(2024, 6, 1))  # fmt: skip


def test_R_GDPR_4_the_retention_run_purges_a_lifted_listing_when_the_register_does(
    tmp_path: Path,
) -> None:
    with Store.open(Settings(db=tmp_path / "credo.duckdb", rules_profile="eu-gdpr")) as store:
        with store.write(AuditEntry("test", "person")) as con:
            insert(con, "persons", {"person_id": "P1", "created_at": dt.datetime(2015, 1, 1)})
        _court(store, "listing", "listed", dt.date(2023, 2, 1))
        _court(store, "satisfied", "satisfied", dt.date(2024, 3, 15))
        with store.write(AuditEntry("test", "ingest")) as con:
            append_event(con, LoanEvent(
                source_record_id="L9", occurred_at=dt.datetime(2023, 1, 1), loan_event="default",
                account_id="L9", amount=Decimal("900.00")), source="bank", person_id="P1",
                recorded_at=dt.datetime(2024, 6, 1))  # fmt: skip
        assert retention_run(store, dt.date(2024, 9, 14)).purged == {}
        ran = retention_run(store, dt.date(2024, 9, 15))  # six months after the court lifted it
        assert ran.purged == {"court_judgment": 2}
        left = [e["event_type"] for e in person_file(store, "P1")["events"]]
        assert left == ["loan"]  # the default, not from a register, is kept its 7 years
        assert verify(store.con).ok
