"""A feature pass read in parts by event id (docs/decisions/0816) aggregates the same rows as
the one pass: every feature and every score equal bit for bit, wherever the cuts fall; the
cuts come only where a type's events would not fit in the memory limit."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.errors import ConfigError
from credo.features import PASS_TYPES, PointInTime, feature_steps
from credo.scoring import runner, train_model
from credo.scoring.query import scored_features
from credo.scoring.runner import memory_limit_bytes, pass_splits, stepwise
from credo.settings import Settings
from credo.store.db import Store
from credo.store.schema import EVENT_TABLES

from .conftest import END, add_events

LATER = dt.datetime(2027, 1, 1)
PIT = PointInTime(END, LATER)


@pytest.fixture(scope="module")
def store(population_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The test population with a retracted payment, an amended payment and an amended bill,
    so that every part reads the corrections as the one pass does."""
    db = tmp_path_factory.mktemp("split") / "credo.duckdb"
    shutil.copy(population_db, db)
    shutil.copy(population_db.with_suffix(".key"), db.with_suffix(".key"))
    with Store.open(Settings(db=db)) as opened:
        payments, bills = (
            opened.con.execute(
                "SELECT e.event_type, e.source, e.source_record_id FROM events e"
                " WHERE e.event_type = ? AND e.occurred_at >= ? ORDER BY e.event_id LIMIT 2",
                [event_type, dt.datetime(2026, 1, 1)],
            ).fetchall()
            for event_type in ("payment", "bill")
        )
        bill = bills[0]
        paid_late = '{"paid_date": "2026-12-31"}'
        fixes: list[dict[str, Any]] = [
            {"correction_action": "retract", "target": payments[0]},
            {"correction_action": "amend", "target": payments[1],
             "amendment": '{"amount": "999.99", "merchant_category": "pet_care"}'},
            {"correction_action": "amend", "target": bill, "amendment": paid_late},
        ]  # fmt: skip
        add_events(
            opened,
            [
                {
                    "event_type": "correction",
                    "occurred_at": dt.datetime(2026, 10, 5),
                    "target_source": f["target"][1],
                    "target_record_id": f["target"][2],
                    "correction_action": f["correction_action"],
                    **({"amendment": f["amendment"]} if "amendment" in f else {}),
                }
                for f in fixes
            ],
            LATER,
        )
        yield opened


def _features(store: Store, withhold: bool, splits: dict[str, list[int]]) -> pa.Table:
    steps = feature_steps(PIT, withhold_assets=withhold, splits=splits)
    with stepwise(store.con, steps) as sql:
        return store.con.sql(f"SELECT * FROM ({sql}) f ORDER BY person_id").to_arrow_table()


@pytest.fixture(scope="module")
def one_pass(store: Store) -> dict[bool, pa.Table]:
    return {withhold: _features(store, withhold, {}) for withhold in (False, True)}


@pytest.fixture(scope="module")
def id_ranges(store: Store) -> dict[str, tuple[int, int]]:
    ranges = {}
    for t in PASS_TYPES:
        row = store.con.execute(f"SELECT min(event_id), max(event_id) FROM {EVENT_TABLES[t]}")
        lo, hi = row.fetchall()[0]
        ranges[t] = (int(lo), int(hi))
    return ranges


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_passes_read_in_any_parts_give_the_features_of_one_pass(
    store: Store,
    one_pass: dict[bool, pa.Table],
    id_ranges: dict[str, tuple[int, int]],
    data: st.DataObject,
) -> None:
    types = data.draw(st.sets(st.sampled_from(PASS_TYPES), min_size=1), label="types")
    # Cuts inside the ids, at their ends and past them (an empty part).
    cuts = {t: st.integers(id_ranges[t][0] - 3, id_ranges[t][1] + 3) for t in types}
    splits = {
        t: sorted(data.draw(st.sets(cuts[t], min_size=1, max_size=6), label=t))
        for t in sorted(types)
    }
    withhold = data.draw(st.booleans(), label="withhold_assets")
    got = _features(store, withhold, splits)
    assert one_pass[withhold].num_rows > 500
    assert got.equals(one_pass[withhold])


def test_a_run_forced_to_split_every_pass_scores_as_one_pass(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = train_model(store, dt.date(2025, 10, 31), save=False).model
    assert pass_splits(store.con, PASS_TYPES) == {}  # the test population fits
    one = scored_features(store, PIT, model, previous=None)
    monkeypatch.setattr(runner, "PASS_ROW_BYTES", 10**12)
    cut = pass_splits(store.con, PASS_TYPES)
    assert set(cut) == set(PASS_TYPES)
    assert all(len(ids) == runner.MAX_PASS_PARTS - 1 for ids in cut.values())
    parts = scored_features(store, PIT, model, previous=None)
    assert one.num_rows > 500 and parts.equals(one)
    # The text differs: the forced run did read its passes in parts.
    assert "UNION ALL" in feature_steps(PIT, splits=cut).sql()


def test_cuts_fall_inside_the_ids_in_as_many_parts_as_the_limit_needs(store: Store) -> None:
    con = store.con
    bills = con.execute("SELECT count(*), min(event_id), max(event_id) FROM events_bill")
    rows, lo, hi = bills.fetchall()[0]
    # 3.5 times the bills' share: 4 parts, whatever DuckDB's rounding of the limit it prints.
    con.execute(f"SET memory_limit = '{rows * runner.PASS_ROW_BYTES / 3.5 / 1024:.0f}KiB'")
    try:
        cut = pass_splits(con, ["bill", "consent"])
    finally:
        con.execute("SET memory_limit = '3GB'")
    assert list(cut) == ["bill"] and len(cut["bill"]) == 3
    assert lo < cut["bill"][0] < cut["bill"][1] < cut["bill"][2] <= hi


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("300MB", 300 * 10**6), ("3GB", 3 * 10**9), ("1.5GB", 15 * 10**8), ("4GiB", 4 * 2**30)],
)
def test_the_memory_limit_is_read_from_duckdb(limit: str, expected: int) -> None:
    con = duckdb.connect(config={"memory_limit": limit})
    # DuckDB prints the limit cut to a tenth of its unit (3 GB: "2.7 GiB"): under by 10% at
    # most, which errs towards more parts.
    assert expected * 0.9 <= memory_limit_bytes(con) <= expected


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ({"court_judgment": [5]}, "no feature pass reads event type 'court_judgment'"),
        ({"bill": [9, 9]}, "must be ascending integer event ids"),
        ({"payment": [10, 3]}, "must be ascending integer event ids"),
        ({"bill": [1.5]}, "must be ascending integer event ids"),
    ],
)
def test_bad_split_points_are_refused(splits: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        feature_steps(PIT, splits=splits)


def test_no_splits_write_the_one_pass() -> None:
    assert feature_steps(PIT, splits={}).sql() == feature_steps(PIT).sql()
    assert "UNION ALL" not in feature_steps(PIT).sql()
