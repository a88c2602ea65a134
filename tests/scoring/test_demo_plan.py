"""The demo's training plan holds out honestly (docs/decisions/0539): whatever the history and
outcome window, no training outcome window reaches into the holdout's, every holdout outcome
is observed, and training starts once files are mature."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from credo.features import months_before
from credo.scoring.demo import HOLDOUT_VINTAGES, VINTAGES, _training_plan, month_ends
from credo.scoring.train import _overlap


def _months(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


@given(
    end=st.sampled_from(month_ends(dt.date(2030, 12, 31), 72)),
    history=st.integers(1, 120),
    outcome=st.integers(1, 24),
)
def test_the_holdout_outcomes_open_after_every_training_outcome_closes(
    end: dt.date, history: int, outcome: int
) -> None:
    last, vintages, holdout = _training_plan(end, history, outcome)
    assert 1 <= vintages <= VINTAGES
    if holdout is None:  # too short for an honest holdout: no holdout, outcomes observed
        assert _months(last, end) == outcome
        assert vintages == 1 or _months(months_before(last, vintages - 1), end) <= history - 6
        return
    first_holdout = months_before(holdout, HOLDOUT_VINTAGES - 1)
    assert _months(holdout, end) == outcome  # the holdout's outcomes are all observed
    assert _months(last, first_holdout) == outcome  # the last training outcome window closes
    assert _overlap(last, outcome, first_holdout)["outcome_overlap_months"] == 0
    assert _months(months_before(last, vintages - 1), end) <= history - 6  # mature files


def test_the_demo_history_gives_an_honest_holdout_and_many_vintages() -> None:
    """48 months of history and 12 scored (credo demo): 28 vintages, none overlapping."""
    end = dt.date(2026, 10, 31)
    last, vintages, holdout = _training_plan(end, 59, 12)
    assert (last, vintages, holdout) == (dt.date(2024, 8, 31), 28, dt.date(2025, 10, 31))
    assert _overlap(last, 12, dt.date(2025, 8, 31)) == {
        "training_outcomes_end": "2025-08-31",
        "outcome_overlap_months": 0,
    }
