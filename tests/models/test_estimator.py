"""The Scorecard estimator: accuracy, the points scale, dimensions and bad input."""

from __future__ import annotations

import json
import math
import warnings
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from credo.errors import CredoError, ModelError
from credo.models import (
    ConstantFeatureWarning,
    DataError,
    FitError,
    NotFittedError,
    Scorecard,
)

from .conftest import DIMENSION_MAP, synthetic


def test_accuracy_matches_logistic_regression_on_held_out_data() -> None:
    X, y = synthetic(8000, seed=3)
    train, test = slice(0, 5600), slice(5600, None)
    card = Scorecard(dimensions=DIMENSION_MAP, cv=3).fit(
        {k: v[train] for k, v in X.items()}, y[train]
    )
    card_auc = roc_auc_score(y[test], card.predict_proba({k: v[test] for k, v in X.items()})[:, 1])

    def design(cols: dict[str, Any]) -> np.ndarray:
        income = np.nan_to_num(np.log(cols["income"]), nan=8.0)
        return np.column_stack(
            [
                income,
                np.isnan(cols["income"]),
                cols["late_payments"],
                cols["age"],
                cols["housing"] == "rent",
                cols["housing"] == "own",
                cols["noise"],
            ]
        )

    lr = LogisticRegression(max_iter=1000).fit(
        design({k: v[train] for k, v in X.items()}), y[train]
    )
    lr_auc = roc_auc_score(
        y[test], lr.predict_proba(design({k: v[test] for k, v in X.items()}))[:, 1]
    )
    # A linear model cannot see the U shape in age; binning can. Never worse by more than noise.
    assert card_auc >= lr_auc - 0.005


def test_probabilities_come_from_the_rounded_points(fitted: Scorecard, data: Any) -> None:
    X, _ = data
    model = fitted.model_
    scaling = model.table.scaling
    raw = model.raw_units(X) / model.unit
    factor = scaling.pdo / math.log(2)
    odds_good = scaling.base_odds * np.exp((raw - scaling.base_points) / factor)
    assert np.allclose(fitted.predict_proba(X)[:, 1], 1 / (1 + odds_good))
    # base_points at base_odds, pdo points per doubling.
    assert np.isclose(model.probability_from_points(np.array([600.0]))[0], 1 / 51)
    assert np.isclose(model.probability_from_points(np.array([620.0]))[0], 1 / 101)


def test_scores_are_whole_points_within_the_clip(fitted: Scorecard, data: Any) -> None:
    scores = fitted.score_points(data[0])
    assert scores.min() >= 350 and scores.max() <= 950
    assert np.array_equal(scores, np.round(scores))


def test_scaling_shifts_points_linearly(data: Any) -> None:
    X, y = data
    base = Scorecard(dimensions=DIMENSION_MAP, cv=3, points_decimals=2).fit(X, y)
    shifted = Scorecard(dimensions=DIMENSION_MAP, cv=3, points_decimals=2, base_points=650).fit(
        X, y
    )
    a, b = base.model_.raw_units(X), shifted.model_.raw_units(X)
    assert np.array_equal(b - a, np.full_like(a, 50 * 100))


def test_every_feature_has_a_dimension(fitted: Scorecard) -> None:
    specs = {s.name: s.dimension for s in fitted.model_.table.features}
    assert specs == DIMENSION_MAP


def test_no_dimension_map_is_an_error_not_unassigned(data: Any) -> None:
    X, y = data
    with pytest.raises(FitError, match=r"5 feature.*have no dimension") as info:
        Scorecard().fit(X, y)
    assert isinstance(info.value, ModelError)
    card = Scorecard(default_dimension="unassigned", cv=3).fit(X, y)
    assert {s.dimension for s in card.model_.table.features} == {"unassigned"}


def test_dimension_map_naming_unknown_feature(data: Any) -> None:
    X, y = data
    with pytest.raises(FitError, match=r"not in the data: \['salary'\]"):
        Scorecard(dimensions={**DIMENSION_MAP, "salary": "behaviour"}).fit(X, y)


def test_directions_are_obeyed(data: Any) -> None:
    X, y = data
    card = Scorecard(
        dimensions=DIMENSION_MAP,
        cv=3,
        directions={"age": "ascending", "late_payments": "descending"},
    ).fit(X, y)
    model = card.model_
    for feature, sign in (("age", 1), ("late_payments", -1)):
        rows = model.rows_of(feature)
        points = [r.points for r in rows if r.kind == "interval"]
        assert len(points) >= 2, feature
        assert all(sign * (b - a) >= 0 for a, b in pairwise(points)), feature
        assert sign * (points[-1] - points[0]) > 0, feature
    spec = {s.name: s for s in model.table.features}
    assert spec["age"].direction == "ascending"


def test_unknown_direction(data: Any) -> None:
    with pytest.raises(FitError, match="direction 'up' for feature 'age'"):
        Scorecard(dimensions=DIMENSION_MAP, directions={"age": "up"}).fit(*data)


def test_missing_values_get_their_own_bin(fitted: Scorecard) -> None:
    rows = fitted.model_.rows_of("income")
    missing = rows[-1]
    assert missing.kind == "missing" and missing.count > 0
    # Missing income is a warning sign in the data: it should earn fewer points than most bins.
    assert missing.points < np.median([r.points for r in rows[:-1]])


def test_constant_feature_is_dropped_with_a_warning(data: Any) -> None:
    X, y = data
    X = {**X, "country": np.array(["NL"] * len(y), dtype=object)}
    with pytest.warns(ConstantFeatureWarning, match="'country' is constant"):
        card = Scorecard(default_dimension="identity", cv=3).fit(X, y)
    assert "country" not in card.model_.features
    assert [d.name for d in card.model_.table.dropped_features] == ["country"]


def test_all_missing_column_is_dropped_with_a_warning(data: Any) -> None:
    """A loan book often has a field nobody fills in: training goes on and says so (0104)."""
    X, y = data
    X = {**X, "empty": np.full(len(y), np.nan), "blank": np.full(len(y), None, dtype=object)}
    with pytest.warns(ConstantFeatureWarning, match="is missing in every row"):
        card = Scorecard(default_dimension="x", cv=3).fit(X, y)
    assert [d.name for d in card.model_.table.dropped_features] == ["blank", "empty"]
    assert {d.reason for d in card.model_.table.dropped_features} == {
        "missing in every row of the training data"
    }


def test_text_in_a_numeric_column_names_the_row(data: Any) -> None:
    X, y = data
    income = X["income"].astype(object)
    income[17] = "n.a.?"
    with pytest.raises(DataError, match=r"'income' is numeric but row 18 holds 'n.a.\?'"):
        Scorecard(default_dimension="x").fit({**X, "income": income}, y)


def test_one_class_target(data: Any) -> None:
    X, y = data
    with pytest.raises(FitError, match="one class only"):
        Scorecard(default_dimension="x").fit(X, np.zeros_like(y))


def test_bad_class_picks_the_bad_label(data: Any) -> None:
    X, y = data
    labels = np.where(y == 1, "default", "repaid")
    card = Scorecard(dimensions=DIMENSION_MAP, cv=3, bad_class="default").fit(X, labels)
    assert list(card.classes_) == ["default", "repaid"]
    p_default = card.predict_proba(X)[:, 0]
    assert roc_auc_score(y, p_default) > 0.7
    with pytest.raises(FitError, match="bad_class 'late' is not a target value"):
        Scorecard(dimensions=DIMENSION_MAP, bad_class="late").fit(X, labels)


def test_unfitted_is_both_credo_and_sklearn_error() -> None:
    from sklearn.exceptions import NotFittedError as SklearnNotFitted

    with pytest.raises(NotFittedError) as info:
        Scorecard().score_points({"a": np.array([1.0])})
    assert isinstance(info.value, CredoError) and isinstance(info.value, SklearnNotFitted)


def test_scoring_data_without_a_feature(fitted: Scorecard, data: Any) -> None:
    X = {k: v for k, v in data[0].items() if k != "age"}
    with pytest.raises(DataError, match="no column 'age'"):
        fitted.model_.score(X)


def test_refit_is_deterministic(data: Any) -> None:
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = Scorecard(dimensions=DIMENSION_MAP, cv=3).fit(X, y).model_.to_json()
        b = Scorecard(dimensions=DIMENSION_MAP, cv=3).fit(X, y).model_.to_json()
    assert a == b


def _suppressor(n: int = 8000) -> tuple[dict[str, Any], np.ndarray]:
    """``echo`` is marginally risky but protective once its correlated partner is known."""
    rng = np.random.default_rng(5)
    strong = rng.normal(size=n)
    echo = 0.8 * strong + 0.6 * rng.normal(size=n)
    noise = rng.normal(size=n)
    logit = 2.0 * strong - 1.0 * echo - 1.5
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return {"strong": strong, "echo": echo, "noise": noise}, y


def test_joint_fit_reads_a_suppressor_monotone_in_its_conditional_direction() -> None:
    """Decision 0108: the joint fit keeps the suppressor, its points follow its effect given
    the others (more echo, more points: against its marginal odds), one way only, and the
    card beats the WoE fit, which has to drop it; a declared direction overrides the data's."""
    X, y = _suppressor()
    test = slice(6000, None)
    train = slice(0, 6000)
    X_train = {k: v[train] for k, v in X.items()}
    joint = Scorecard(default_dimension="credit_history").fit(X_train, y[train])
    woe = Scorecard(default_dimension="credit_history", points_fit="woe").fit(X_train, y[train])
    spec = {f.name: f for f in joint.model_.table.features}
    assert set(spec) == set(X) and not joint.model_.table.dropped_features
    assert spec["echo"].direction == "ascending" and spec["strong"].direction == "descending"
    for name, sign in (("echo", 1), ("strong", -1)):
        points = [r.points for r in joint.model_.rows_of(name) if r.kind == "interval"]
        assert all(sign * (b - a) >= 0 for a, b in pairwise(points)), name
        assert sign * (points[-1] - points[0]) > 20, name
    X_test = {k: v[test] for k, v in X.items()}
    auc = {
        name: roc_auc_score(y[test], card.predict_proba(X_test)[:, 1])
        for name, card in (("joint", joint), ("woe", woe))
    }
    assert auc["joint"] > auc["woe"] + 0.01
    declared = Scorecard(default_dimension="credit_history", directions={"echo": "descending"}).fit(
        X_train, y[train]
    )
    points = [r.points for r in declared.model_.rows_of("echo") if r.kind == "interval"]
    assert all(b <= a for a, b in pairwise(points))


def test_points_never_contradict_the_evidence_of_their_bins() -> None:
    """With the WoE fit (decision 0103), a suppressor gets a weight against its own bins'
    evidence when fitted freely; it must leave the table, named with the reason, rather than
    publish bins whose points run against their odds."""
    X, y = _suppressor()
    model = Scorecard(default_dimension="credit_history", points_fit="woe").fit(X, y).model_
    table = json.loads(model.to_json())
    assert all(f["coefficient"] <= 0 for f in table["features"])
    kept = {f["name"] for f in table["features"]}
    assert kept | {d["name"] for d in table["dropped_features"]} == set(X)
    assert "echo" not in kept and "strong" in kept
    for name in kept:
        rows = [r for r in table["rows"] if r["feature"] == name and r["count"] > 0]
        by_woe = sorted(rows, key=lambda r: r["woe"])
        assert [r["points"] for r in by_woe] == sorted(r["points"] for r in rows), name


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**16),
    shape=st.sampled_from(["linear", "u", "step"]),
    declared=st.sampled_from(["ascending", "descending", "auto"]),
)
def test_joint_points_are_monotone_where_declared_and_reproducible(
    seed: int, shape: str, declared: str
) -> None:
    """Property of the joint fit (decision 0108): whatever the data's shape, every numeric
    feature's interval points move one way only, the declared way when declared; categories
    and the missing bin are free; refitting gives the same table bit for bit."""
    rng = np.random.default_rng(seed)
    n = 1500
    x = rng.normal(size=n)
    other = 0.5 * x + rng.normal(size=n)
    x[rng.uniform(size=n) < 0.1] = np.nan
    effect = {"linear": x, "u": x**2 - 1, "step": (x > 0.5).astype(float)}[shape]
    grade = rng.choice(np.array(["A", "B", "C", "D"], dtype=object), size=n)
    logit = np.nan_to_num(effect) + 0.4 * other + (grade == "D") - 1.2
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = {"x": x, "other": other, "grade": grade}
    params = {"default_dimension": "d", "cv": 3, "directions": {"x": declared}}
    first = Scorecard(**params).fit(X, y).model_
    again = Scorecard(**params).fit(X, y).model_
    assert first.to_json() == again.to_json()
    for spec in first.table.features:
        if spec.kind != "numeric":
            continue
        points = [r.points for r in first.rows_of(spec.name) if r.kind == "interval"]
        sign = 1 if spec.direction == "ascending" else -1
        assert spec.direction in ("ascending", "descending")
        assert all(sign * (b - a) >= 0 for a, b in pairwise(points)), (spec.name, points)
        if spec.name == "x" and declared != "auto":
            assert spec.direction == declared
