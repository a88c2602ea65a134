"""Training a date at a time keeps only what it needs (issue 21, item 4): the performing rows
of each vintage, the anchors' raw points. The model must be the one the whole tables gave."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from credo.features import PointInTime, months_before
from credo.models.table import with_training
from credo.policy import load_policy
from credo.policy.schema import ScoringPolicy
from credo.scoring.fit import fit_summary
from credo.scoring.policy_rules import listings_query
from credo.scoring.runs import latest_known_at
from credo.scoring.train import (
    TrainingTable,
    _balanced,
    _fitted,
    _odds,
    _prior_corrected,
    _usable,
    calibrate,
    train_model,
    training_table,
)
from credo.store.db import Store

from .conftest import END

POLICY = load_policy("zhima").policy
assert isinstance(POLICY, ScoringPolicy)


def _table(performing: list[bool], bad: list[bool]) -> TrainingTable:
    n = len(performing)
    persons = np.array([f"P{i}" for i in range(n)], dtype=object)
    return TrainingTable(
        {"x": np.arange(n, dtype=np.float64)},
        np.array(bad, dtype=np.int64) * np.array(performing, dtype=np.int64),
        persons,
        np.array(performing, dtype=np.bool_),
    )


def _flags(n: int) -> st.SearchStrategy[list[bool]]:
    return st.lists(st.booleans(), min_size=n, max_size=n)


#: one vintage: whether each row is performing, and whether it went bad
vintage = st.integers(0, 60).flatmap(lambda n: st.tuples(_flags(n), _flags(n)))


@settings(max_examples=200, deadline=None)
@given(st.lists(vintage, min_size=2, max_size=5), st.integers(700_000, 800_000))
def test_the_balanced_sample_of_the_performing_rows_is_the_one_of_the_whole_tables(
    vintages: list[tuple[list[bool], list[bool]]], day: int
) -> None:
    """``_balanced`` draws positions among each vintage's goods, so given only the performing
    rows it keeps exactly the rows it kept of the whole tables (decision 0986)."""
    as_of = dt.date.fromordinal(day)
    whole = [_table(p, b) for p, b in vintages]
    performing = np.concatenate([t.performing for t in whole])
    expected = (_balanced(whole, as_of) & performing)[performing]
    kept = _balanced([t.performing_only() for t in whole], as_of)
    assert np.array_equal(kept, expected)


@settings(max_examples=100, deadline=None)
@given(vintage, st.booleans())
def test_performing_only_keeps_those_rows_in_order(
    rows: tuple[list[bool], list[bool]], persons: bool
) -> None:
    table = _table(*rows)
    kept = table.performing_only(persons=persons)
    assert np.array_equal(kept.features["x"], table.features["x"][table.performing])
    assert np.array_equal(kept.bad, table.bad[table.performing])
    assert kept.performing.all() and len(kept.performing) == len(kept.bad)
    assert np.array_equal(
        kept.persons, table.persons[table.performing] if persons else np.empty(0, dtype=object)
    )


def _whole_tables(
    store: Store,
    as_of: dt.date,
    vintages: int,
    holdout: dt.date,
    anchors: list[dt.date],
) -> tuple[str, dict[str, Any], int, int]:
    """The model id, fit, rows and bads as ``train_model`` computed them before decision 0986:
    every table whole, stacked, masked."""
    known = latest_known_at(store)

    def at(d: dt.date) -> TrainingTable:
        return training_table(store, d, policy=POLICY, known_at=known, outcome_months=6)

    dates = [months_before(as_of, k) for k in range(vintages - 1, -1, -1)]
    tables = [at(d) for d in dates]
    table = TrainingTable.stacked(tables)
    keep = table.performing
    everyone = {n: c[keep] for n, c in table.features.items()}
    y_all = table.bad[keep]
    keep = keep & _balanced(tables, as_of)
    X = {n: c[keep] for n, c in table.features.items()}
    y = table.bad[keep]
    usable, _ = _usable(X)
    outcome = f"default or {POLICY.outcome.min_days_past_due}+ days past due within 6 months"
    model = with_training(
        _fitted(usable, y, POLICY, f"bureau-{as_of}"), target=outcome, bad_value="1"
    )
    anchor = [at(d) for d in anchors]
    population = TrainingTable.stacked(anchor)
    held: list[NDArray[np.bool_]] = []
    for d, t in zip(anchors, anchor, strict=True):
        pit = PointInTime(d, known, POLICY.retention_years)
        listed = store.con.sql(f"SELECT DISTINCT person_id FROM ({listings_query(pit)})")
        held.append(np.isin(t.persons, [r[0] for r in listed.fetchall()]))
    anchored = {n: population.features[n] for n in usable}
    model = calibrate(model, anchored, POLICY, np.concatenate(held))
    rows = len(y)
    model = _prior_corrected(model, _odds(y) / _odds(y_all))
    usable = {n: everyone[n] for n in usable}
    later = at(holdout)
    k = later.performing
    out = fit_summary(
        later.bad[k], model.predict_bad_probability({n: later.features[n][k] for n in usable})
    )
    out["persons"] = len(set(later.persons[k].tolist()))
    out["bad_persons"] = len(set(later.persons[k & (later.bad == 1)].tolist()))
    fit = {"in_time": fit_summary(y_all, model.predict_bad_probability(usable)), "out_of_time": out}
    return model.model_id, fit, rows, int(y_all.sum())


def test_train_model_gives_the_model_the_whole_tables_gave(loaded: Store) -> None:
    """Stacked, balanced, anchored and held out: the same model id, fit, rows and bads as the
    code that kept every table whole (decision 0986)."""
    obs, holdout = dt.date(2025, 5, 31), dt.date(2025, 11, 30)
    anchors = [dt.date(2026, 4, 30), END]
    trained = train_model(
        loaded, obs, vintages=4, holdout=holdout, anchor_dates=anchors, outcome_months=6,
        balance_vintages=True, save=False,
    )  # fmt: skip
    model_id, fit, rows, bads = _whole_tables(loaded, obs, 4, holdout, anchors)
    assert trained.rows < fit["in_time"]["rows"]  # goods were dropped: the balance is tested
    assert (trained.model.model_id, trained.rows, trained.bad_rows) == (model_id, rows, bads)
    for part in ("in_time", "out_of_time"):
        assert trained.fit[part] == fit[part]
