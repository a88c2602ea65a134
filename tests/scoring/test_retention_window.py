"""The monthly run's retention check reads only items some clock can age out by the as-of date
(decision 0981): the SQL window never leaves out an item whose purge date has come."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from credo.policy.rules import RetentionRules
from credo.scoring.retention import (
    _due_candidates,
    _typed_reads,
    is_adverse,
    may_be_due_sql,
    purge_date,
)
from credo.settings import Settings
from credo.store.db import Store

DAY = dt.date(2015, 1, 1)
days = st.integers(min_value=0, max_value=4000).map(lambda n: DAY + dt.timedelta(days=n))


@st.composite
def loaded_items(draw: st.DrawFn) -> dict[str, Any]:
    """An item as loaded, every field the clocks read drawn (29 February and month ends too)."""
    kind = draw(st.sampled_from(["bill", "loan", "rental"]))
    occurred = dt.datetime.combine(draw(days), dt.time(draw(st.integers(0, 23))))
    item: dict[str, Any] = {"event_type": kind, "occurred_at": occurred, "due_date": None,
                            "paid_date": None, "days_past_due": None, "loan_event": None,
                            "damage": None, "unpaid_amount": None}  # fmt: skip
    if kind == "bill":
        item["due_date"] = draw(days)
        item["paid_date"] = draw(st.none() | days)
    elif kind == "loan":
        item["loan_event"] = draw(st.sampled_from(["default", "bankruptcy", "instalment"]))
        item["paid_date"] = draw(st.none() | days)
        item["days_past_due"] = draw(st.none() | st.integers(0, 2000))
    else:
        item["damage"] = draw(st.booleans())
        item["unpaid_amount"] = draw(st.sampled_from([Decimal(0), Decimal("30.00")]))
    return item


rules = st.builds(
    RetentionRules,
    adverse_years=st.integers(1, 10),
    bankruptcy_years=st.integers(1, 12),
    clock=st.sampled_from(["occurrence", "first_delinquency", "end_of_event"]),
    delinquency_grace_days=st.integers(0, 365),
    public_register_cap=st.booleans(),
    public_register_months=st.integers(0, 120),
)

_CON = duckdb.connect()
_CON.execute(
    "CREATE TABLE item (event_type VARCHAR, occurred_at TIMESTAMP, due_date DATE,"
    " paid_date DATE, days_past_due BIGINT, loan_event VARCHAR)"
)


@settings(max_examples=500, deadline=None)
@given(loaded_items(), rules, st.integers(0, 40))
def test_no_item_due_by_the_as_of_date_is_left_out(
    item: dict[str, Any], profile: RetentionRules, late: int
) -> None:
    """Runs on the days an item falls due and the few after, where a window too tight
    (a month's arithmetic, a register's shorter keep) would first lose it."""
    due = purge_date([item], profile)
    assume(is_adverse(item) and due is not None)
    assert due is not None
    as_of = due + dt.timedelta(days=late)
    columns = ["event_type", "occurred_at", "due_date", "paid_date", "days_past_due", "loan_event"]
    _CON.execute("DELETE FROM item")
    _CON.execute("INSERT INTO item VALUES (?, ?, ?, ?, ?, ?)", [item[c] for c in columns])
    kept = _CON.execute(f"SELECT {may_be_due_sql(as_of, profile)} FROM item").fetchall()[0][0]
    assert kept, (item, due, as_of)


def test_the_window_leaves_out_what_is_young() -> None:
    """Not vacuous: under the default profile (5 years; a bankruptcy 3, or 6 months after its
    discharge) a bill missed a year ago and a bankruptcy of last year are left out; a bill
    missed six years ago, a bankruptcy discharged seven months ago and a court record are
    read."""
    profile = RetentionRules(
        adverse_years=5, bankruptcy_years=3, public_register_cap=True, public_register_months=6
    )
    window = may_be_due_sql(dt.date(2026, 10, 31), profile)
    items = [
        ("bill", dt.date(2025, 10, 1), None, None),
        ("loan", dt.date(2025, 10, 1), "bankruptcy", None),
        ("bill", dt.date(2020, 10, 1), None, None),
        ("loan", dt.date(2025, 1, 1), "bankruptcy", dt.date(2026, 3, 1)),
        ("court_judgment", dt.date(2026, 10, 1), None, None),
    ]
    got = [
        _CON.execute(
            f"SELECT {window} FROM (SELECT ? AS event_type, CAST(? AS TIMESTAMP) AS occurred_at,"
            " CAST(? AS DATE) AS due_date, CAST(? AS DATE) AS paid_date,"
            " NULL::BIGINT AS days_past_due, CAST(? AS VARCHAR) AS loan_event)",
            [kind, day, day if kind == "bill" else None, paid, event],
        ).fetchall()[0][0]
        for kind, day, event, paid in items
    ]
    assert got == [False, False, True, True, True]


@given(st.dates(max_value=dt.date(20, 12, 31)) | st.dates(min_value=dt.date(9990, 1, 1)), rules)
def test_the_window_holds_for_any_date_a_request_can_name(as_of: dt.date, profile: Any) -> None:
    """``POST /admin/retention/run`` takes any date (the schema test sent year 5): the window
    is still a condition DuckDB reads, not an error. The ends of the calendar, where a clock's
    start would fall outside it."""
    _CON.execute(f"SELECT {may_be_due_sql(as_of, profile)} FROM item").fetchall()


@pytest.fixture(scope="module")
def population(population_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    db = tmp_path_factory.mktemp("due") / "credo.duckdb"
    shutil.copy(population_db, db)
    shutil.copy(population_db.with_suffix(".key"), db.with_suffix(".key"))
    with Store.open(Settings(db=db)) as store:
        yield store


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules,
    st.integers(0, 12 * 12).map(lambda n: dt.date(2026, 10, 31) + dt.timedelta(days=30 * n)),
)
def test_each_type_read_from_its_own_table_gives_the_candidates_of_the_view(
    population: Store, profile: RetentionRules, as_of: dt.date
) -> None:
    """Decision 0818: the first branch read per type from its own table, the columns it lacks
    as NULLs of the view's types, gives the same rows as read through ``events``, for any
    profile and date (some items due, then more, then all)."""
    con = population.con
    view = sorted(con.execute(_due_candidates(as_of, profile)).fetchall())
    typed = sorted(con.execute(_due_candidates(as_of, profile, _typed_reads(con))).fetchall())
    assert typed == view
    # The court records are always read: the comparison is never between two empty sets.
    assert view


def test_long_after_every_item_the_typed_reads_give_every_adverse_item(population: Store) -> None:
    con = population.con
    late = dt.date(2045, 1, 31)
    profile = RetentionRules(adverse_years=1, bankruptcy_years=1)
    typed = con.execute(_due_candidates(late, profile, _typed_reads(con))).fetchall()
    assert sorted(typed) == sorted(con.execute(_due_candidates(late, profile)).fetchall())
    kinds = {row[1] for row in typed}
    assert len(typed) > 500 and kinds == {"bill", "loan", "rental", "court_judgment"}


def test_a_column_a_type_lacks_is_read_as_the_views_null(population: Store) -> None:
    reads = _typed_reads(population.con)
    assert "CAST(NULL AS VARCHAR) AS loan_event" in reads["bill"]
    assert "CAST(NULL AS DATE) AS due_date" in reads["court_judgment"]
    assert " due_date," in reads["bill"] and "FROM events_bill" in reads["bill"]
