"""Monthly scoring on a loaded population: training without leakage, replay, court list,
thin files, corrections and explanations."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from credo.access import create_partner
from credo.features import PointInTime, features_sql
from credo.policy.products import load_products
from credo.rights import decide, record_consent
from credo.scoring import (
    explain_score,
    latest_known_at,
    replay_run,
    rescore_person,
    score,
    train_model,
)
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.schema import EVENT_TABLES

from .conftest import END, add_events

OBS = dt.date(2025, 10, 31)
LATER = dt.datetime(2027, 1, 1)


def _features(store: Store, pit: PointInTime) -> list[tuple[object, ...]]:
    return store.con.execute(f"SELECT * FROM ({features_sql(pit)}) f ORDER BY 1").fetchall()


def test_no_feature_sees_the_outcome_window(loaded: Store, tmp_path: Path) -> None:
    known = latest_known_at(loaded)
    pit = PointInTime(OBS, known)
    full = _features(loaded, pit)
    # The same store without any event that occurred after the observation date.
    db = tmp_path / "cut.duckdb"
    loaded.con.execute("CHECKPOINT")
    shutil.copy(loaded.path, db)
    shutil.copy(loaded.path.with_suffix(".key"), db.with_suffix(".key"))
    with Store.open(Settings(db=db)) as cut:
        with cut.write(AuditEntry("test", "cut_history")) as con:
            for table in EVENT_TABLES.values():
                con.execute(f"DELETE FROM {table} WHERE occurred_at >= ?", [pit.end])
        assert _features(cut, pit) == full
    # An outcome event after the date changes the outcome, not the features.
    person = full[0][0]
    add_events(
        loaded,
        [
            {
                "person_id": person,
                "event_type": "loan",
                "occurred_at": dt.datetime(2025, 11, 5),
                "loan_event": "default",
                "account_id": "LX1",
                "days_past_due": 90,
                "due_date": dt.date(2025, 8, 5),
            }
        ],
        known,
    )
    assert _features(loaded, pit) == full
    from credo.policy import load_policy
    from credo.scoring.train import training_table

    policy = load_policy("zhima").policy
    table = training_table(loaded, OBS, policy=policy, known_at=known)  # type: ignore[arg-type]
    row = list(table.persons).index(person)
    assert table.bad[row] == 1 and table.performing[row]


@pytest.fixture
def trained(loaded: Store) -> Store:
    train_model(loaded, OBS)
    return loaded


def test_training_again_after_scoring_gives_the_same_model(loaded: Store) -> None:
    # Scores made after the data's watermark are not what the bureau knew then: a second
    # training on the same events must not see them (contacts' mean score last month).
    first = train_model(loaded, OBS)
    run = score(loaded, dt.date(2025, 9, 30))
    made = loaded.scalar("SELECT created_at FROM score_runs WHERE run_id = ?", [run.run_id])
    assert made > first.known_at
    again = train_model(loaded, OBS, save=False)
    assert again.model.model_id == first.model.model_id
    assert again.model.to_json() == first.model.to_json()


def test_replay_gives_the_same_rows_bit_for_bit(trained: Store) -> None:
    first = score(trained, dt.date(2026, 9, 30))
    run = score(trained, END)
    assert run.previous_run_id == first.run_id
    stored = trained.con.sql(
        f"SELECT * FROM score_snapshots WHERE run_id = '{run.run_id}' ORDER BY person_id"
    ).to_arrow_table()
    person = stored.column("person_id")[0].as_py()
    add_events(  # arrives after the run: a replay must not see it
        trained,
        [
            {
                "person_id": person,
                "event_type": "payment",
                "occurred_at": dt.datetime(2026, 10, 3),
                "amount": 99999,
                "merchant_category": "luxury",
            }
        ],
        LATER,
    )
    assert replay_run(trained, run.run_id).equals(stored)
    scores = stored.column("score").to_pylist()
    assert all(350 <= s <= 950 for s in scores)
    assert all(len(r) <= 4 for r in stored.column("reason_codes").to_pylist())
    assert stored.column("trend").null_count < stored.num_rows


def _declined_while_listed(store: Store, person: str) -> Callable[[str], bool]:
    """Whether a partner's decision on a product declines it for the court listing of the
    person's latest score, off-cycle re-scores included (restricted: ``products.yaml``)."""
    products = load_products()
    create_partner(store, "airline", "Airline")
    # Granted after the scored day: the person's features as of that day stay the same.
    granted = dt.datetime(2026, 10, 25)
    consent = {
        purpose: record_consent(
            store, person, "grant", partner="airline", purpose=purpose, now=granted
        ).consent_id
        for purpose in ("travel", "rental")
    }

    def declined(product: str) -> bool:
        purpose = products.product(product).purpose
        decision = decide(store, "airline", person, product, consent[purpose], products)
        return decision.outcome == "declined" and decision.reasons[0]["code"] == "court_list"

    return declined


def test_court_listing_caps_and_its_satisfaction_lifts_the_same_day(trained: Store) -> None:
    day = dt.date(2026, 10, 20)
    baseline = score(trained, day)
    person, free = trained.con.execute(
        "SELECT person_id, score FROM score_snapshots WHERE run_id = ? AND score > 600"
        " AND len(court_listings) = 0 ORDER BY person_id LIMIT 1",
        [baseline.run_id],
    ).fetchall()[0]
    listing = {
        "person_id": person,
        "event_type": "court_judgment",
        "court": "遂宁市船山区人民法院",
        "case_number": "(2026)川0903执123号",
        "amount": 5000,
        "listed_on": dt.date(2026, 10, 1),
    }
    add_events(
        trained,
        [listing | {"occurred_at": dt.datetime(2026, 10, 2), "judgment_status": "listed"}],
        LATER,
    )
    listed = rescore_person(trained, person, day)
    row = trained.con.execute(
        "SELECT score, capped, reason_codes, court_listings FROM score_snapshots WHERE run_id = ?",
        [listed.run_id],
    ).fetchall()[0]
    assert row[0] == 549 and row[1] and row[2][0] == "court_list"
    assert "(2026)川0903执123号" in row[3][0]
    declined_while_listed = _declined_while_listed(trained, person)
    assert declined_while_listed("flights")
    assert not declined_while_listed("bike_rental")
    text = explain_score(trained, person).reasons[0]["text"]
    assert "遂宁市船山区人民法院" in text and "capped at 549" in text
    add_events(
        trained,
        [
            listing
            | {
                "occurred_at": dt.datetime(2026, 10, 20, 9),
                "judgment_status": "satisfied",
                "satisfied_on": day,
            }
        ],
        LATER + dt.timedelta(hours=1),
    )
    lifted = rescore_person(trained, person, day)
    after = trained.con.execute(
        "SELECT score, capped, court_listings FROM score_snapshots WHERE run_id = ?",
        [lifted.run_id],
    ).fetchall()[0]
    assert after == (free, False, [])
    assert not declined_while_listed("flights")


def test_a_person_without_history_gets_the_documented_score(trained: Store) -> None:
    with trained.write(AuditEntry("test", "new_person")) as con:
        con.execute("INSERT INTO persons VALUES ('NEW1', ?, 'active')", [LATER])
    add_events(
        trained,
        [
            {
                "person_id": "NEW1",
                "event_type": "consent",
                "occurred_at": dt.datetime(2026, 10, 1),
                "consent_action": "enrol",
            },
            {
                "person_id": "NEW1",
                "event_type": "payment",
                "occurred_at": dt.datetime(2026, 10, 2),
                "amount": 12,
                "merchant_category": "grocery",
            },
        ],
        LATER,
    )
    run = score(trained, END)
    row = trained.con.execute(
        "SELECT score, band, reason_codes, not_enough_history FROM score_snapshots"
        " WHERE run_id = ? AND person_id = 'NEW1'",
        [run.run_id],
    ).fetchall()[0]
    assert row == (550.0, "fair", ["not_enough_history"], True)
    assert explain_score(trained, "NEW1").reasons[0]["text"].startswith("Not enough history")


def test_calibration_puts_about_five_percent_below_550(trained: Store) -> None:
    run = score(trained, OBS)
    share = trained.scalar(
        "SELECT avg(CASE WHEN score < 550 THEN 1.0 ELSE 0.0 END) FROM score_snapshots"
        " WHERE run_id = ? AND NOT not_enough_history",
        [run.run_id],
    )
    assert 0.02 <= share <= 0.08


def test_a_retracted_bill_stops_counting(trained: Store) -> None:
    pit = PointInTime(END, LATER)
    rows = trained.con.execute(
        f"SELECT person_id, unpaid_bills FROM ({features_sql(pit)}) f WHERE unpaid_bills > 0"
        " ORDER BY person_id LIMIT 1"
    ).fetchall()
    person, unpaid = rows[0]
    source, record = trained.con.execute(
        "SELECT e.source, e.source_record_id FROM events e JOIN event_persons p USING (event_id)"
        " WHERE p.person_id = ? AND e.event_type = 'bill' AND e.paid_date IS NULL"
        " AND e.due_date < ? ORDER BY e.event_id LIMIT 1",
        [person, END],
    ).fetchall()[0]
    add_events(
        trained,
        [
            {
                "event_type": "correction",
                "occurred_at": dt.datetime(2026, 10, 5),
                "target_source": source,
                "target_record_id": record,
                "correction_action": "retract",
                "reason": "dispute upheld: the bill was paid",
            }
        ],
        LATER,
    )
    after = trained.con.execute(
        f"SELECT unpaid_bills FROM ({features_sql(pit, person=person)}) f"
    ).fetchall()[0][0]
    assert after == unpaid - 1


def test_explanation_lists_points_rows_and_events(trained: Store) -> None:
    run = score(trained, END)
    person = trained.con.execute(
        "SELECT person_id FROM score_snapshots WHERE run_id = ? AND NOT not_enough_history"
        " ORDER BY person_id LIMIT 1",
        [run.run_id],
    ).fetchall()[0][0]
    result = explain_score(trained, person, END)
    assert result.run_id == run.run_id
    assert sum(f["points"] for f in result.features) != 0
    assert any(f["events"] for f in result.features)
    assert all(f["bin"]["feature"] == f["feature"] for f in result.features)
    assert set(result.sub_scores) == {
        "credit_history",
        "behaviour",
        "fulfilment_capacity",
        "identity",
        "connections",
    }
