"""Explanations: points per feature and dimension, reasons, and how to improve."""

from __future__ import annotations

from typing import Any

import numpy as np

from credo.models import Scorecard, ScorecardModel, explain


def _one(**values: Any) -> dict[str, np.ndarray]:
    return {
        k: np.array([v], dtype=object if isinstance(v, str) or v is None else float)
        for k, v in values.items()
    }


def test_points_add_up_per_feature_and_dimension(handmade: ScorecardModel) -> None:
    (e,) = explain(handmade, _one(income=1000.0, late_payments=3.0, housing="rent's"))
    assert e.feature_points == {"housing": -14, "income": -21, "late_payments": -29}
    assert e.dimension_points == {
        "identity": -14,
        "fulfilment_capacity": -21,
        "credit_history": -29,
    }
    assert e.raw_points == 520 - 64 == e.score


def test_reasons_rank_points_lost_against_the_best_bin(handmade: ScorecardModel) -> None:
    (e,) = explain(handmade, _one(income=1000.0, late_payments=3.0, housing="rent's"))
    assert [(r.feature, r.points_lost) for r in e.reasons] == [
        ("late_payments", 47),
        ("income", 46),
        ("housing", 28),
    ]
    lost = [r.points_lost for r in e.reasons]
    assert lost == sorted(lost, reverse=True)
    assert e.reasons[0].feature == "late_payments" and e.reasons[0].points_lost == 47
    assert e.reasons[0].text == (
        "Late payments in the last year is 1 or more: 47 points fewer than the best (under 1)"
    )


def test_at_most_four_reasons_and_none_for_best_bins(fitted: Any, data: Any) -> None:
    X, _ = data
    explanations = fitted.explain({k: v[:50] for k, v in X.items()})
    assert all(len(e.reasons) <= 4 for e in explanations)
    model = fitted.model_
    for e in explanations:
        for r in e.reasons:
            best = max(row.points for row in model.rows_of(r.feature))
            assert r.points_lost == best - r.points > 0


def test_improvement_is_the_next_better_bin(handmade: ScorecardModel) -> None:
    (e,) = explain(handmade, _one(income=1000.0, late_payments=0.0, housing=None))
    steps = {i.feature: i for i in e.improvements}
    # income: under 1500 (-21) -> 1500 to under 3000.5 (+4), not straight to the best bin.
    assert steps["income"].gain == 25 and steps["income"].to_bin == 1
    assert "late_payments" not in steps  # already in its best bin
    # Unknown housing (-3): the next better reachable bin is "own" (14); never "other"/"missing".
    assert steps["housing"].to_bin == 0 and steps["housing"].gain == 17
    assert steps["income"].text == (
        "Monthly income: moving from under 1500 to 1500 to under 3000.5 would add 25 points"
    )


def test_not_known_is_never_held_up_as_the_best_bin() -> None:
    """When a missing value scores best (say: no loan, no record of arrears), a reason must
    still compare the person with the best bin they can move into, never with 'not known'."""
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x - 1.0)))).astype(int)
    x[rng.uniform(size=n) < 0.3] = np.nan
    y[np.isnan(x)] = 0  # a missing value is the safest case of all
    other = rng.normal(size=n)
    model = Scorecard(default_dimension="credit_history").fit({"x": x, "other": other}, y).model_
    rows = model.rows_of("x")
    units = model.units_of("x")
    missing = next(i for i, r in enumerate(rows) if r.kind == "missing")
    assert units[missing] == units.max()  # the premise: not known scores best
    worst_value = float(np.nanmax(x))
    (e,) = explain(model, {"x": np.array([worst_value]), "other": np.array([0.0])})
    reason = next(r for r in e.reasons if r.feature == "x")
    assert "not known" not in reason.text
    reachable = [int(units[i]) for i, r in enumerate(rows) if r.kind == "interval"]
    held = model.bin_indexes({"x": np.array([worst_value]), "other": np.array([0.0])})["x"][0]
    assert reason.points_lost * model.unit == max(reachable) - int(units[held])
