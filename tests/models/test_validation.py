"""Validation metrics against cases with known answers, and the written report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.errors import ModelError
from credo.models.validation import (
    auc,
    calibration_table,
    gini,
    ks,
    psi,
    score_distribution,
    validation_report,
)


def test_perfect_and_useless_rankings() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    assert auc(y, [1, 2, 3, 4, 5, 6]) == 1.0 and ks(y, [1, 2, 3, 4, 5, 6]) == 1.0
    assert auc(y, [6, 5, 4, 3, 2, 1]) == 0.0
    assert gini(y, [1, 1, 1, 1, 1, 1]) == 0.0


def test_ks_is_the_widest_cdf_gap() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    risk = rng.normal(size=500) + y
    thresholds = np.unique(risk)
    gaps = [np.mean(risk[y == 1] >= t) - np.mean(risk[y == 0] >= t) for t in thresholds]
    assert ks(y, risk) == pytest.approx(max(gaps))


def test_one_class_outcome_is_refused() -> None:
    with pytest.raises(ModelError, match="one class only"):
        auc([0, 0, 0], [1, 2, 3])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(350, 950), min_size=20, max_size=300))
def test_psi_of_a_sample_with_itself_is_zero(scores: list[int]) -> None:
    assert psi(scores, scores) == pytest.approx(0.0, abs=1e-12)


def test_psi_grows_with_the_shift() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(600, 50, 20_000)
    small = psi(base, rng.normal(605, 50, 20_000))
    large = psi(base, rng.normal(650, 50, 20_000))
    assert small < 0.1 < 0.25 < large


def test_calibration_deciles() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 0.5, 10_000)
    y = (rng.random(10_000) < p).astype(int)
    table = calibration_table(y, p)
    assert len(table) == 10 and sum(r["rows"] for r in table) == 10_000
    for row in table:  # well-calibrated predictions: observed within noise of predicted
        assert abs(row["observed_bad_rate"] - row["predicted_bad_rate"]) < 0.04


def test_score_distribution_bands() -> None:
    rows = score_distribution([350, 399, 400, 951], [1, 0, 0, 1], width=50)
    assert rows[0] == {"from": 350.0, "to": 400.0, "rows": 2, "bad_rows": 1}
    assert [r["rows"] for r in rows] == [2, 1, 1]


def test_report_json_and_html(fitted: Any, data: Any, tmp_path: Path) -> None:
    X, y = data
    half = {k: v[:2000] for k, v in X.items()}
    report = validation_report(fitted.model_, X, y, compare=half)
    assert 0.7 < report.auc < 1 and report.gini == pytest.approx(2 * report.auc - 1)
    assert set(report.information_value) == set(fitted.model_.features)
    assert report.information_value["late_payments"] > report.information_value["noise"]
    assert report.psi is not None and report.psi < 0.05
    assert report.feature_psi is not None and set(report.feature_psi) == set(
        report.information_value
    )
    json_path, html_path = report.write(tmp_path / "report")
    document = json.loads(json_path.read_text())
    assert document["auc"] == report.auc and len(document["calibration"]) == 10
    html = html_path.read_text()
    assert html.count("<svg") == 4 and "ROC curve" in html and "Stability" in html
