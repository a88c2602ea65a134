"""The retention engine (RULES R-FCRA-10, R-FCRA-11, R-CRR-1): adverse items age out by the
profile's clock, an amendment never pushes the date back, and the monthly run deletes what is
due, audited, so the person's file no longer shows it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from credo.ingest.events import (
    EVENT_FIELDS,
    EVENT_MODELS,
    FIELDS,
    BillEvent,
    CorrectionEvent,
    EventBase,
    LoanEvent,
)
from credo.policy.rules import RetentionRules, load_rules
from credo.rights.audited import append_event
from credo.rights.file import person_file
from credo.scoring.retention import purge_date, retention_run, versions
from credo.settings import Settings
from credo.store.audit import AuditEntry, verify
from credo.store.db import Store
from credo.store.rows import insert

DAY = dt.date(2018, 1, 1)
days = st.integers(min_value=0, max_value=3000).map(lambda n: DAY + dt.timedelta(days=n))


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["bill", "loan", "rental"]))
    occurred = draw(days)
    item: dict[str, Any] = {"event_type": kind, "occurred_at": occurred}
    if kind == "bill":
        item["due_date"] = draw(days)
        item["paid_date"] = draw(st.none() | days)
    elif kind == "loan":
        item["loan_event"] = draw(
            st.sampled_from(["default", "instalment", "closed", "bankruptcy"])
        )
        item["paid_date"] = draw(st.none() | days)
        item["days_past_due"] = draw(st.none() | st.integers(0, 400))
    else:
        item["damage"] = draw(st.booleans())
        item["unpaid_amount"] = draw(st.sampled_from([Decimal(0), Decimal("30.00")]))
    return item


amendments = st.fixed_dictionaries(
    {},
    optional={
        "due_date": days.map(str),
        "paid_date": days.map(str),
        "days_past_due": st.integers(0, 400),
        "loan_event": st.sampled_from(["default", "instalment", "closed", "bankruptcy"]),
        "damage": st.booleans(),
        "unpaid_amount": st.sampled_from([0, 30]),
    },
)
rules = st.builds(
    RetentionRules,
    adverse_years=st.integers(1, 10),
    bankruptcy_years=st.integers(1, 12),
    clock=st.sampled_from(["occurrence", "first_delinquency", "end_of_event"]),
    delinquency_grace_days=st.integers(0, 365),
)


@settings(max_examples=400, deadline=None)
@given(items(), st.lists(amendments, max_size=4), rules)
def test_R_FCRA_11_an_amendment_never_extends_retention(
    item: dict[str, Any], changes: list[dict[str, Any]], profile: RetentionRules
) -> None:
    history = versions(item, changes)
    for seen in range(1, len(history)):
        before = purge_date(history[:seen], profile)
        after = purge_date(history[: seen + 1], profile)
        if before is not None:
            assert after is not None and after <= before


def test_R_FCRA_11_the_clock_starts_180_days_after_the_first_delinquency() -> None:
    fcra = RetentionRules(adverse_years=7, clock="first_delinquency", delinquency_grace_days=180)
    bill = {"event_type": "bill", "occurred_at": dt.date(2018, 3, 1),
            "due_date": dt.date(2018, 1, 10), "paid_date": dt.date(2019, 6, 1)}  # fmt: skip
    assert purge_date([bill], fcra) == dt.date(2025, 7, 9)  # 10 Jan + 180 d = 9 Jul, + 7 y
    on_time = bill | {"paid_date": dt.date(2018, 1, 12)}
    assert purge_date([on_time], fcra) is None  # not adverse: retention does not apply


def _add(store: Store, event: EventBase, person: str = "P1") -> int:
    with store.write(AuditEntry("test", "ingest")) as con:
        return append_event(
            con, event, source="bank", person_id=person, recorded_at=dt.datetime(2026, 11, 1)
        )


def _store(tmp_path: Path, profile: str) -> Store:
    store = Store.open(Settings(db=tmp_path / "credo.duckdb", rules_profile=profile))
    with store.write(AuditEntry("test", "person")) as con:
        insert(con, "persons", {"person_id": "P1", "created_at": dt.datetime(2015, 1, 1)})
    return store


def test_R_CRR_1_an_item_ages_out_five_years_from_the_end_of_the_act(tmp_path: Path) -> None:
    with _store(tmp_path, "cn-crr") as store:
        repaid = _add(store, LoanEvent(
            source_record_id="L1-default", occurred_at=dt.datetime(2019, 1, 1),
            loan_event="default", account_id="L1", amount=Decimal("5000.00"),
            paid_date=dt.date(2020, 3, 1)))  # fmt: skip
        never = _add(store, BillEvent(
            source_record_id="B1", occurred_at=dt.datetime(2015, 2, 1), bill_kind="utility",
            amount=Decimal("80.00"), due_date=dt.date(2015, 2, 10)))  # fmt: skip
        kept = retention_run(store, dt.date(2025, 2, 28))
        assert kept.purged == {} and kept.clock == "end_of_event" and kept.adverse_years == 5
        ran = retention_run(store, dt.date(2025, 3, 1))  # five years after the repayment
        assert ran.purged == {"loan": 1}
        ids = [e["event_id"] for e in person_file(store, "P1")["events"]]
        assert repaid not in ids and never in ids  # an unpaid bill has not ended: kept
        logged = store.con.execute(
            "SELECT details FROM audit_log WHERE action = 'retention.run' ORDER BY seq"
        ).fetchall()
        assert [json.loads(d)["purged"] for (d,) in logged] == [{}, {"loan": 1}]
        assert verify(store.con).ok


def test_R_FCRA_10_obsolete_items_are_purged_and_an_amendment_does_not_re_age_them(
    tmp_path: Path,
) -> None:
    with _store(tmp_path, "us-fcra") as store:
        late = _add(store, BillEvent(
            source_record_id="B2", occurred_at=dt.datetime(2018, 3, 1), bill_kind="rent",
            amount=Decimal("900.00"), due_date=dt.date(2018, 1, 10)))  # fmt: skip
        # The furnisher re-reports the bill with a later due date: the clock stays.
        _add(store, CorrectionEvent(
            source_record_id="B2-fix", occurred_at=dt.datetime(2024, 1, 1),
            target_source="bank", target_record_id="B2", correction_action="amend",
            reason="re-furnished", amendment=json.dumps({"due_date": "2021-01-10"})))  # fmt: skip
        assert retention_run(store, dt.date(2025, 7, 8)).purged == {}
        ran = retention_run(store, dt.date(2025, 7, 9))  # DOFD + 180 days + 7 years
        assert ran.purged == {"bill": 1} and ran.corrections == 1
        assert late not in [e["event_id"] for e in person_file(store, "P1")["events"]]
        assert store.scalar("SELECT count(*) FROM events") == 0


def test_R_FCRA_10_a_bankruptcy_is_kept_10_years_from_its_order_other_items_7(
    tmp_path: Path,
) -> None:
    with _store(tmp_path, "us-fcra") as store:
        order = dt.datetime(2015, 3, 1)
        bankrupt = _add(store, LoanEvent(
            source_record_id="L9-bk", occurred_at=order, loan_event="bankruptcy",
            account_id="L9", paid_date=dt.date(2015, 9, 1)))  # fmt: skip
        charged_off = _add(store, LoanEvent(
            source_record_id="L8-def", occurred_at=order, loan_event="default",
            account_id="L8", amount=Decimal("700.00")))  # fmt: skip
        # The charge-off: first delinquency + 180 days + 7 years.
        assert retention_run(store, dt.date(2022, 8, 27)).purged == {}
        assert retention_run(store, dt.date(2022, 8, 28)).purged == {"loan": 1}
        ids = [e["event_id"] for e in person_file(store, "P1")["events"]]
        assert charged_off not in ids and bankrupt in ids
        # The bankruptcy: 10 years from the order, no 180-day grace.
        assert retention_run(store, dt.date(2025, 2, 28)).purged == {}
        ran = retention_run(store, dt.date(2025, 3, 1))
        assert ran.purged == {"loan": 1}
        assert store.scalar("SELECT count(*) FROM events") == 0


def test_R_FCRA_10_a_judgment_is_kept_7_years_or_its_statute_whichever_is_longer() -> None:
    """FCRA 605(a)(2): a satisfied judgment listed on 1 March 2020 (clock: DOFD + 180 days)
    ages out 7 years on, or at the end of a longer statute of limitations."""
    judgment: dict[str, Any] = {
        "event_type": "court_judgment", "occurred_at": dt.datetime(2020, 3, 1),
        "listed_on": dt.date(2020, 3, 1), "judgment_status": "satisfied",
        "case_ended_on": dt.date(2020, 9, 1),
    }  # fmt: skip
    start = dt.date(2020, 3, 1) + dt.timedelta(days=180)
    fcra = RetentionRules(adverse_years=7, clock="first_delinquency")
    assert purge_date([judgment], fcra) == start.replace(year=2027)
    shorter = fcra.model_copy(update={"judgment_limitation_years": 5})
    assert purge_date([judgment], shorter) == start.replace(year=2027)
    longer = fcra.model_copy(update={"judgment_limitation_years": 10})
    assert purge_date([judgment], longer) == start.replace(year=2030)
    default = load_rules("default").retention  # the strictest: the shortest term
    assert default.judgment_limitation_years == 0


def test_R_FCRA_10_no_item_type_without_a_retention_rule_is_loaded() -> None:
    """Paid tax liens (7 y from payment) and criminal convictions (exempt) have rules of their
    own; the catalogue holds neither, and one added would fail here until retention has it."""
    words = ("lien", "criminal", "conviction", "arrest")
    names = [*EVENT_MODELS, *(f"{t}.{f}" for t, fs in EVENT_FIELDS.items() for f in fs)]
    names += [c for spec in FIELDS.values() for c in spec.choices]
    assert [n for n in names if any(w in n for w in words)] == []


def test_R_FCRA_10_an_item_made_adverse_by_an_amendment_ages_out_and_is_counted_once(
    tmp_path: Path,
) -> None:
    """Candidates are read in two branches (adverse as loaded; amended): an instalment amended
    to a default is found only by the second, an amended late bill by the first alone."""
    with _store(tmp_path, "us-fcra") as store:
        made_adverse = _add(store, LoanEvent(
            source_record_id="L7-inst", occurred_at=dt.datetime(2015, 3, 1),
            loan_event="instalment", account_id="L7", amount=Decimal("100.00")))  # fmt: skip
        _add(store, CorrectionEvent(
            source_record_id="L7-fix", occurred_at=dt.datetime(2016, 1, 1),
            target_source="bank", target_record_id="L7-inst", correction_action="amend",
            reason="charged off", amendment=json.dumps({"loan_event": "default"})))  # fmt: skip
        late = _add(store, BillEvent(
            source_record_id="B3", occurred_at=dt.datetime(2015, 3, 1), bill_kind="rent",
            amount=Decimal("900.00"), due_date=dt.date(2015, 1, 10)))  # fmt: skip
        _add(store, CorrectionEvent(
            source_record_id="B3-fix", occurred_at=dt.datetime(2016, 1, 1),
            target_source="bank", target_record_id="B3", correction_action="amend",
            reason="re-furnished", amendment=json.dumps({"amount": "950.00"})))  # fmt: skip
        assert retention_run(store, dt.date(2016, 6, 1)).purged == {}
        ran = retention_run(store, dt.date(2030, 1, 1))
        assert ran.purged == {"loan": 1, "bill": 1} and ran.corrections == 2
        ids = [e["event_id"] for e in person_file(store, "P1")["events"]]
        assert made_adverse not in ids and late not in ids
