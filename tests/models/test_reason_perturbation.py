"""RULES R-ECOA-5: the reasons given for a score are the person's own points lost, shown faithful
by perturbation (CFPB Circulars 2022-03 and 2023-03: no checklist reasons for complex models).

For a fitted scorecard and any applicant (hypothesis draws the values, missing ones included):
moving a reason's feature into its best bin raises that applicant's points by exactly the points
the reason says were lost; a feature that is not a reason cannot gain by moving; the first reason
is the single change worth the most; and a reason's points lost do not move when another
feature is perturbed (it is the applicant's own, not an average over others)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.models import explain
from credo.models.document import PointsRow

FEATURES = ("income", "late_payments", "age", "housing", "noise")

applicants = st.fixed_dictionaries(
    {
        "income": st.one_of(st.none(), st.floats(0, 50_000, allow_nan=False)),
        "late_payments": st.one_of(st.none(), st.integers(0, 8).map(float)),
        "age": st.one_of(st.none(), st.integers(18, 90).map(float)),
        "housing": st.one_of(st.none(), st.sampled_from(["own", "rent", "free", "other", "boat"])),
        "noise": st.one_of(st.none(), st.floats(-4, 4, allow_nan=False)),
    }
)


def _columns(values: dict[str, Any]) -> dict[str, np.ndarray]:
    out = {}
    for k, v in values.items():
        if k == "housing":
            out[k] = np.array([v], dtype=object)
        else:
            out[k] = np.array([np.nan if v is None else v], dtype=float)
    return out


def _inside(row: PointsRow) -> Any:
    """A value that falls in this bin."""
    if row.kind == "categories":
        assert row.categories
        return row.categories[0]
    if row.kind == "missing":
        return None
    if row.kind == "other":
        return "a value never seen in training"
    if row.lower is not None:
        return row.lower
    assert row.upper is not None
    return row.upper - 1


def _raw(model: Any, values: dict[str, Any]) -> float:
    return float(model.raw_units(_columns(values))[0]) / model.unit


@settings(max_examples=150)
@given(person=applicants, other=st.sampled_from(FEATURES), pick=st.integers(0, 50))
def test_R_ECOA_5_reasons_are_the_persons_own_points_lost_by_perturbation(
    fitted: Any, person: dict[str, Any], other: str, pick: int
) -> None:
    model = fitted.model_
    names = [f for f in FEATURES if f in model.features]
    assert len(names) >= 3, model.features  # the fitted table kept the signal's features
    person = {k: v for k, v in person.items() if k in names}
    (e,) = explain(model, _columns(person), top=len(names))
    base = _raw(model, person)
    reasons = {r.feature: r for r in e.reasons}
    gains = {}
    for name in names:
        rows = model.rows_of(name)
        reachable = [r for r in rows if r.kind in ("interval", "categories")] or list(rows)
        gains[name] = max(_raw(model, person | {name: _inside(r)}) - base for r in reachable)
        if name in reasons:
            r = reasons[name]
            moved = _raw(model, person | {name: _inside(rows[r.best_bin])})
            assert moved - base == r.points_lost > 0, (name, r)
            assert gains[name] == r.points_lost  # the best bin is the most it can gain
        else:
            assert gains[name] <= 0, (name, gains[name])  # no reason: nothing to gain
    if e.reasons:
        assert e.reasons[0].points_lost == max(gains.values())
        lost = [r.points_lost for r in e.reasons]
        assert lost == sorted(lost, reverse=True)
    # Another feature perturbed: the reasons of the features left alone keep their points lost.
    rows = model.rows_of(other) if other in names else ()
    if rows:
        changed = person | {other: _inside(rows[pick % len(rows)])}
        (after,) = explain(model, _columns(changed), top=len(names))
        before = {f: r.points_lost for f, r in reasons.items() if f != other}
        now = {r.feature: r.points_lost for r in after.reasons if r.feature != other}
        assert now == before
