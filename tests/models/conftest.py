"""Synthetic credit data (NumPy only) and a hand-built points table for the models tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from credo.models import ScorecardModel
from credo.models.document import FeatureSpec, PointsRow, Scaling, Training
from credo.models.table import build_table

Columns = dict[str, NDArray[Any]]


def synthetic(n: int = 4000, seed: int = 0) -> tuple[Columns, NDArray[np.int64]]:
    """Applicants whose default risk falls with income, rises with late payments, has a U shape
    in age, depends on housing, and where a missing income is itself a warning sign."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8, 0.6, n)
    late = rng.poisson(1.0, n).astype(float)
    age = rng.uniform(18, 80, n).round()
    housing = rng.choice(
        np.array(["own", "rent", "free", "other"], dtype=object), n, p=[0.45, 0.4, 0.1, 0.05]
    )
    noise = rng.normal(size=n)
    logit = (
        -1.0
        - 0.9 * (np.log(income) - 8)
        + 0.6 * late
        + 0.0015 * (age - 45) ** 2
        + np.where(housing == "rent", 0.5, 0.0)
    )
    missing_income = rng.random(n) < 0.08
    logit = logit + np.where(missing_income, 0.7, 0.0)
    income[missing_income] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return {
        "income": income,
        "late_payments": late,
        "age": age,
        "housing": housing,
        "noise": noise,
    }, y


DIMENSION_MAP = {
    "income": "fulfilment_capacity",
    "late_payments": "credit_history",
    "age": "identity",
    "housing": "identity",
    "noise": "behaviour",
}


@pytest.fixture(scope="session")
def data() -> tuple[Columns, NDArray[np.int64]]:
    return synthetic()


@pytest.fixture(scope="session")
def fitted(data: tuple[Columns, NDArray[np.int64]]) -> Any:
    from credo.models import Scorecard

    X, y = data
    return Scorecard(
        dimensions=DIMENSION_MAP, descriptions={"late_payments": "late payments"}, cv=3
    ).fit(X, y)


def handmade_table(points_decimals: int = 0) -> ScorecardModel:
    """A small fixed table: SQL snapshots must not move when scikit-learn does."""

    def p(value: float) -> float:
        """Whole points, or a quarter point more when decimals are on (exercises DECIMAL)."""
        return value + 0.25 if points_decimals else value

    rows = [
        PointsRow(
            feature="income",
            bin=0,
            kind="interval",
            upper=1500.0,
            woe=-0.6,
            points=p(-21),
            dimension="fulfilment_capacity",
            description="under 1500",
            count=10,
            bad_count=5,
        ),
        PointsRow(
            feature="income",
            bin=1,
            kind="interval",
            lower=1500.0,
            upper=3000.5,
            woe=0.1,
            points=p(4),
            dimension="fulfilment_capacity",
            description="1500 to under 3000.5",
            count=10,
            bad_count=2,
        ),
        PointsRow(
            feature="income",
            bin=2,
            kind="interval",
            lower=3000.5,
            woe=0.7,
            points=p(25),
            dimension="fulfilment_capacity",
            description="3000.5 or more",
            count=10,
            bad_count=1,
        ),
        PointsRow(
            feature="income",
            bin=3,
            kind="missing",
            woe=-0.3,
            points=p(-10),
            dimension="fulfilment_capacity",
            description="not known",
            count=3,
            bad_count=1,
        ),
        PointsRow(
            feature="late_payments",
            bin=0,
            kind="interval",
            upper=1.0,
            woe=0.5,
            points=p(18),
            dimension="credit_history",
            description="under 1",
            count=10,
            bad_count=1,
        ),
        PointsRow(
            feature="late_payments",
            bin=1,
            kind="interval",
            lower=1.0,
            woe=-0.8,
            points=p(-29),
            dimension="credit_history",
            description="1 or more",
            count=10,
            bad_count=6,
        ),
        PointsRow(
            feature="late_payments",
            bin=2,
            kind="missing",
            woe=0.0,
            points=p(0),
            dimension="credit_history",
            description="not known",
            count=0,
            bad_count=0,
        ),
        PointsRow(
            feature="housing",
            bin=0,
            kind="categories",
            categories=["own"],
            woe=0.4,
            points=p(14),
            dimension="identity",
            description="own",
            count=10,
            bad_count=2,
        ),
        PointsRow(
            feature="housing",
            bin=1,
            kind="categories",
            categories=["free", "rent's"],
            woe=-0.4,
            points=p(-14),
            dimension="identity",
            description="one of free, rent's",
            count=10,
            bad_count=4,
        ),
        PointsRow(
            feature="housing",
            bin=2,
            kind="other",
            woe=0.0,
            points=p(0),
            dimension="identity",
            description="another value",
            count=0,
            bad_count=0,
        ),
        PointsRow(
            feature="housing",
            bin=3,
            kind="missing",
            woe=-0.1,
            points=p(-3),
            dimension="identity",
            description="not known",
            count=2,
            bad_count=1,
        ),
    ]
    features = [
        FeatureSpec(
            name="income",
            kind="numeric",
            dimension="fulfilment_capacity",
            description="monthly income",
            direction="ascending",
            coefficient=-1.0,
            information_value=0.3,
        ),
        FeatureSpec(
            name="late_payments",
            kind="numeric",
            dimension="credit_history",
            description="late payments in the last year",
            direction="descending",
            coefficient=-1.0,
            information_value=0.5,
        ),
        FeatureSpec(
            name="housing",
            kind="categorical",
            dimension="identity",
            description="housing",
            coefficient=-1.0,
            information_value=0.1,
        ),
    ]
    table = build_table(
        model_version="test-1",
        scaling=Scaling(
            base_points=600,
            base_odds=50,
            pdo=20,
            min_score=350,
            max_score=950,
            points_decimals=points_decimals,
        ),
        intercept_points=520.0 + (0.5 if points_decimals else 0),
        features=features,
        rows=rows,
        dropped=[],
        training=Training(rows=33, bad_rows=13, target="bad", bad_value="1"),
    )
    return ScorecardModel(table)


@pytest.fixture
def handmade() -> ScorecardModel:
    return handmade_table()
