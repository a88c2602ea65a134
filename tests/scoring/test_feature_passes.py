"""The features read each event type in its own pass (docs/decisions/0522): run step by step they
give the rows of the one query, a person without events of a type counts zero there, and
corrections reach every pass."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from credo.features import PointInTime, Steps, feature_steps, features_sql
from credo.scoring.runner import stepwise
from credo.store.audit import AuditEntry
from credo.store.db import Store

from .conftest import END, add_events

LATER = dt.datetime(2027, 1, 1)


def _one(store: Store, pit: PointInTime, person: str) -> dict[str, Any]:
    rows = store.con.sql(features_sql(pit, person=person)).to_arrow_table().to_pylist()
    assert len(rows) == 1
    return rows[0]


def _payment(store: Store, person: str) -> tuple[str, str, float]:
    """A payment of ``person`` in the last 12 months: source, record id, amount."""
    source, record, amount = store.con.execute(
        "SELECT e.source, e.source_record_id, e.amount FROM events e"
        " JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE p.person_id = ? AND e.event_type = 'payment' AND e.occurred_at >= ?"
        " ORDER BY e.event_id LIMIT 1",
        [person, dt.datetime(2025, 12, 1)],
    ).fetchall()[0]
    return str(source), str(record), float(amount)


def test_step_by_step_gives_the_rows_of_the_one_query(loaded: Store) -> None:
    person = loaded.con.execute("SELECT min(person_id) FROM event_persons").fetchall()[0][0]
    source, record, _ = _payment(loaded, person)
    add_events(  # a correction, so the passes read the corrections step
        loaded,
        [
            {
                "event_type": "correction",
                "occurred_at": dt.datetime(2026, 10, 5),
                "target_source": source,
                "target_record_id": record,
                "correction_action": "retract",
            }
        ],
        LATER,
    )
    pit = PointInTime(END, LATER)
    one = loaded.con.sql(f"SELECT * FROM ({features_sql(pit)}) f ORDER BY 1").to_arrow_table()
    with stepwise(loaded.con, feature_steps(pit)) as sql:
        assert sql.count("SELECT * FROM credo_step_") == len(feature_steps(pit).steps)
        steps = loaded.con.sql(f"SELECT * FROM ({sql}) f ORDER BY 1").to_arrow_table()
    assert one.num_rows > 500 and steps.equals(one)
    left = loaded.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'credo_step_%'"
    ).fetchall()[0][0]
    assert left == 0


def test_a_person_without_events_of_a_type_counts_zero_there(loaded: Store) -> None:
    with loaded.write(AuditEntry("test", "new_person")) as con:
        con.execute("INSERT INTO persons VALUES ('ONE1', ?, 'active')", [LATER])
    add_events(
        loaded,
        [
            {
                "person_id": "ONE1",
                "event_type": "consent",
                "occurred_at": dt.datetime(2026, 10, 1),
                "consent_action": "enrol",
            },
            {
                "person_id": "ONE1",
                "event_type": "payment",
                "occurred_at": dt.datetime(2026, 10, 2),
                "amount": 12,
                "merchant_category": "grocery",
            },
        ],
        LATER,
    )
    row = _one(loaded, PointInTime(END, LATER), "ONE1")
    # Counts and sums over no events are 0, as when every type was read in one pass.
    zero = (
        "loan_defaults",
        "unpaid_bills",
        "unpaid_partner_damages",
        "identity_verified",
        "contacts_added_12m",
        "contacts",
    )
    assert {name: row[name] for name in zero} == dict.fromkeys(zero, 0)
    # Shares, ages and the latest value of a type never seen are not known.
    unknown = ("instalments_on_time_share_24m", "months_since_oldest_account", "education")
    assert all(row[name] is None for name in unknown)
    assert row["history_events"] == 1 and row["history_months"] == 0
    assert row["spending_categories_12m"] == 1 and row["monthly_spending_12m"] == 1.0
    assert row["spending_regularity_24m"] == 1.0  # one month paid of one month on file


def test_an_amended_payment_changes_the_spending_pass(loaded: Store) -> None:
    pit = PointInTime(END, LATER)
    person = loaded.con.execute(
        f"SELECT person_id FROM ({features_sql(pit)}) f WHERE monthly_spending_12m > 0"
        " ORDER BY person_id LIMIT 1"
    ).fetchall()[0][0]
    before = _one(loaded, pit, person)["monthly_spending_12m"]
    source, record, amount = _payment(loaded, person)
    add_events(
        loaded,
        [
            {
                "event_type": "correction",
                "occurred_at": dt.datetime(2026, 10, 5),
                "target_source": source,
                "target_record_id": record,
                "correction_action": "amend",
                "amendment": '{"amount": "1200.00"}',
            }
        ],
        LATER,
    )
    after = _one(loaded, pit, person)["monthly_spending_12m"]
    assert amount != 1200 and abs(after - (before * 12 - amount + 1200) / 12.0) < 1e-6


def test_the_category_count_scores_as_count_distinct_did(loaded: Store) -> None:
    """Decision 0980: the merchant categories counted as bits give every feature and every
    score of the catalogue's former ``count(DISTINCT ...)``, bit for bit, with categories off
    the ingest list (a service's payment, an amendment) on file."""
    import dataclasses

    from credo.features import CATALOGUE
    from credo.features.catalogue import _last_12m
    from credo.scoring import train_model
    from credo.scoring.query import scoring_query

    pit = PointInTime(END, LATER)
    people = [r[0] for r in loaded.con.execute(
        f"SELECT person_id FROM ({features_sql(pit)}) f WHERE monthly_spending_12m > 0"
        " ORDER BY person_id LIMIT 3"
    ).fetchall()]  # fmt: skip
    source, record, _ = _payment(loaded, people[0])
    add_events(
        loaded,
        [
            {
                "person_id": people[1],
                "event_type": "payment",
                "amount": 3,
                "occurred_at": dt.datetime(2026, 9, 1),
                "merchant_category": "gaming",
            },
            {
                "person_id": people[2],
                "event_type": "payment",
                "amount": 4,
                "occurred_at": dt.datetime(2026, 9, 2),
                "merchant_category": "Grocery",
            },
            {
                "event_type": "correction",
                "occurred_at": dt.datetime(2026, 10, 5),
                "target_source": source,
                "target_record_id": record,
                "correction_action": "amend",
                "amendment": '{"merchant_category": "pet_care"}',
            },
        ],
        LATER,
    )
    former = tuple(
        dataclasses.replace(
            f,
            expression=lambda c: (
                f"count(DISTINCT CASE WHEN {_last_12m(c)} THEN k.merchant_category END)"
            ),
        )
        if f.name == "spending_categories_12m"
        else f
        for f in CATALOGUE
    )
    model = train_model(loaded, dt.date(2025, 10, 31)).model
    now, then = (
        loaded.con.sql(scoring_query(model, features_sql(pit, features=features))).to_arrow_table()
        for features in (CATALOGUE, former)
    )
    assert now.num_rows > 500 and now.equals(then)
    rows = {
        r["person_id"]: r["spending_categories_12m"]
        for r in loaded.con.sql(features_sql(pit)).to_arrow_table().to_pylist()
    }
    before = {
        r["person_id"]: r["spending_categories_12m"]
        for r in loaded.con.sql(features_sql(pit, features=former)).to_arrow_table().to_pylist()
    }
    assert rows == before and rows[people[1]] >= 1 and rows[people[2]] >= 1


def _setting(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
    assert row is not None
    return str(row[0])


def test_the_passes_run_their_joins_as_written_and_the_setting_comes_back() -> None:
    """Steps marked ``as_written`` run with DuckDB's join ordering off (decision 0814); the
    others, and the connection after the run, keep the setting the connection had."""
    con = duckdb.connect()
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    probe = "  SELECT current_setting('disabled_optimizers') AS s"
    query = Steps((("a", probe), ("b", probe)), "SELECT * FROM a, b", frozenset({"a"}))
    with stepwise(con, query) as sql:
        row = con.execute(sql).fetchone()
        assert row is not None
        assert set(row[0].split(",")) == {"filter_pushdown", "join_order"}
        assert row[1] == "filter_pushdown"
    assert _setting(con) == "filter_pushdown"
    broken = Steps((("a", "  SELECT no_such_column FROM a_missing_table"),), "", frozenset({"a"}))
    with pytest.raises(duckdb.Error), stepwise(con, broken):
        pass
    assert _setting(con) == "filter_pushdown"


def test_feature_steps_mark_each_event_type_pass() -> None:
    steps = feature_steps(PointInTime(END, LATER))
    names = [n for n, _ in steps.steps]
    assert steps.as_written == {"consents", "loans", "bills", "payments", "rentals",
                                "attributes", "connections"}  # fmt: skip
    assert steps.as_written <= set(names)
    assert steps.upto("bills").as_written == steps.as_written
