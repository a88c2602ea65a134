"""The audit's figures against their definitions and against fairlearn's MetricFrame."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from credo.fairness.audit import AuditSettings, audit
from credo.fairness.inputs import CutSpec
from credo.fairness.metrics import cut_for_share, groups_at_cut, within_group_auc
from credo.models import ScorecardModel

Population = tuple[dict[str, NDArray[Any]], NDArray[np.int64], dict[str, NDArray[Any]]]


@given(
    st.lists(st.integers(300, 900), min_size=1, max_size=60),
    st.fractions(min_value=Fraction(1, 1000), max_value=1),
)
def test_the_share_cut_is_the_highest_that_approves_at_least_the_share(
    values: list[int], share: Fraction
) -> None:
    scores = np.asarray(values, dtype=np.float64)
    cut = cut_for_share(scores, share)
    assert Fraction(int((scores >= cut).sum()), len(scores)) >= share
    higher = scores[scores > cut]
    if len(higher):
        above = higher.min()
        assert Fraction(int((scores >= above).sum()), len(scores)) < share


@given(
    st.lists(st.tuples(st.integers(300, 320), st.booleans()), min_size=2, max_size=80).filter(
        lambda rows: 0 < sum(g for _, g in rows) < len(rows)
    )
)
def test_the_auc_within_a_group_equals_scikit_learns_with_ties(
    rows: list[tuple[int, bool]],
) -> None:
    from sklearn.metrics import roc_auc_score

    scores = np.array([s for s, _ in rows], dtype=np.float64)  # a narrow range: many ties
    good = np.array([g for _, g in rows], dtype=np.bool_)
    got = within_group_auc(scores, good)
    assert got is not None and got == pytest.approx(roc_auc_score(good, scores), abs=1e-12)
    assert within_group_auc(scores, np.ones(len(rows), dtype=np.bool_)) is None


def test_a_share_of_seven_tenths_of_ten_rows_approves_seven() -> None:
    scores = np.arange(10, dtype=np.float64)
    assert cut_for_share(scores, Fraction("0.7")) == 3.0


def test_rates_follow_their_definitions() -> None:
    scores = np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=np.float64)
    good = np.array([1, 0, 1, 1, 0, 1, 1, 0], dtype=bool)
    groups = np.array(["x", "x", "x", "x", "y", "y", "y", "y"])
    reference, rows = groups_at_cut(scores, good, groups, 4.0)
    x, y = rows
    assert reference == "y"
    assert (x.approval_rate, y.approval_rate) == (0.25, 1.0)
    assert x.air == 0.25 and y.air == 1.0
    assert x.tpr == pytest.approx(1 / 3) and y.tpr == 1.0
    assert x.tpr_gap == pytest.approx(1 / 3 - 1.0)
    assert x.fpr == 0.0 and y.fpr == 1.0


def test_figures_equal_fairlearns_metricframe(card: ScorecardModel, population: Population) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_ratio,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    X, y, protected = population
    groups = {k: np.asarray(v, dtype=np.str_) for k, v in protected.items()}
    scores = card.score(X)
    median = CutSpec("score", score=float(np.median(scores)))
    report = audit(card, X, y, groups, [CutSpec.parse_share("0.8"), median])
    for attribute in report.attributes:
        for cut in attribute["cuts"]:
            approved = (scores >= cut["score"]).astype(int)
            frame = MetricFrame(
                metrics={
                    "n": count,
                    "rate": selection_rate,
                    "tpr": true_positive_rate,
                    "fpr": false_positive_rate,
                },
                y_true=(y == 0).astype(int),
                y_pred=approved,
                sensitive_features=protected[attribute["name"]],
            )
            theirs = frame.by_group
            for g in cut["groups"]:
                row = theirs.loc[g["group"]]
                assert g["n"] == row["n"]
                assert g["approval_rate"] == pytest.approx(row["rate"], abs=1e-12)
                assert g["air"] == pytest.approx(row["rate"] / theirs["rate"].max(), abs=1e-12)
                assert g["tpr"] == pytest.approx(row["tpr"], abs=1e-12)
                assert g["tpr_gap"] == pytest.approx(
                    row["tpr"] - theirs.loc[cut["reference_group"], "tpr"], abs=1e-12
                )
                assert g["fpr"] == pytest.approx(row["fpr"], abs=1e-12)
            assert cut["min_air"] == pytest.approx(
                demographic_parity_ratio(
                    (y == 0).astype(int),
                    approved,
                    sensitive_features=protected[attribute["name"]],
                ),
                abs=1e-12,
            )


def test_the_card_that_rewards_income_is_flagged_for_the_lower_earning_group(
    card: ScorecardModel, population: Population
) -> None:
    X, y, protected = population
    groups = {k: np.asarray(v, dtype=np.str_) for k, v in protected.items()}
    report = audit(card, X, y, groups, [CutSpec.parse_share("0.5")])
    flagged = {(f["attribute"], f["group"]) for f in report.flags}
    assert ("group", "b") in flagged
    assert not any(attribute == "sex" for attribute, _ in flagged)
    group = report.attributes[0]
    b = next(g for g in group["groups"] if g["group"] == "b")
    assert b["smd"] < -0.2


def test_small_groups_get_intervals_that_hold_the_estimate_and_repeat_by_seed(
    card: ScorecardModel, population: Population
) -> None:
    X, y, protected = population
    groups = {"group": np.asarray(protected["group"], dtype=np.str_)}
    cuts = [CutSpec.parse_share("0.6")]
    settings = AuditSettings(small_group=500, seed=7)
    first = audit(card, X, y, groups, cuts, settings).to_dict()
    second = audit(card, X, y, groups, cuts, settings).to_dict()
    assert first == second
    by = {g["group"]: g for g in first["attributes"][0]["cuts"][0]["groups"]}
    assert by["a"]["intervals"] is None and by["b"]["intervals"] is None
    low, high = by["c"]["intervals"]["approval_rate"]
    assert low <= by["c"]["approval_rate"] <= high and high - low > 0.02
    low, high = by["c"]["intervals"]["air"]
    assert low <= by["c"]["air"] <= high
