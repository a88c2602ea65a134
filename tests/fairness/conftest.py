"""Applicants with a protected attribute that a feature (income) carries, and a fitted card."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from credo.models import Scorecard, ScorecardModel
from credo.models.table import with_training

Columns = dict[str, NDArray[Any]]


def applicants(n: int = 3000, seed: int = 1) -> tuple[Columns, NDArray[np.int64], Columns]:
    """Group "b" earns less, so a card that rewards income approves fewer of them; group "c" is
    small (bootstrap intervals); ``postcode`` is a near-copy of the group (a proxy)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["a", "b", "c"], dtype=object), n, p=[0.6, 0.35, 0.05])
    income = rng.lognormal(8 - 0.5 * (group == "b"), 0.5, n)
    late = rng.poisson(1.0, n).astype(float)
    postcode = np.where(rng.random(n) < 0.85, (group == "b").astype(float), rng.integers(0, 2, n))
    logit = -1.2 - 1.0 * (np.log(income) - 8) + 0.6 * late
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    sex = rng.choice(np.array(["f", "m"], dtype=object), n)
    features = {"income": income, "late_payments": late, "postcode": postcode}
    return features, y, {"group": group, "sex": sex}


@pytest.fixture(scope="session")
def population() -> tuple[Columns, NDArray[np.int64], Columns]:
    return applicants()


@pytest.fixture(scope="session")
def card(population: tuple[Columns, NDArray[np.int64], Columns]) -> ScorecardModel:
    X, y, _ = population
    fitted = Scorecard(default_dimension="unassigned", cv=3).fit(X, y)
    return with_training(fitted.model_, target="bad", bad_value="1")


def write_csv(path: Path, columns: Columns) -> Path:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for i in range(len(columns[names[0]])):
            writer.writerow([columns[k][i] for k in names])
    return path
