"""Reasons and improvements are ranked for all persons at once; they must equal the rule as
written for one person (court listing first, thin file, then the largest losses)."""

from __future__ import annotations

import numpy as np
import pytest

from credo.scoring.reasons import COURT_LIST, NOT_ENOUGH_HISTORY, improvements, reasons

NAMES = ["a", "b", "c", "d", "e", "f"]


def _one_person(
    listed: bool, thin: bool, court: float, lost: list[int], gain: list[int], limit: int
) -> tuple[list[str], list[float], list[str], list[float]]:
    codes: list[str] = []
    points: list[float] = []
    if listed:
        codes.append(COURT_LIST)
        points.append(court)
    if thin:
        codes.append(NOT_ENOUGH_HISTORY)
        points.append(0.0)
    else:
        for j in sorted(range(len(lost)), key=lambda j: -lost[j]):  # stable, as argsort
            if len(codes) >= limit or lost[j] <= 0:
                break
            codes.append(NAMES[j])
            points.append(lost[j] / 10)
    better = [j for j in sorted(range(len(gain)), key=lambda j: -gain[j]) if gain[j] > 0][:3]
    return codes, points, [NAMES[j] for j in better], [gain[j] / 10 for j in better]


@pytest.mark.parametrize("max_reasons", [1, 2, 4])
def test_ranked_for_all_persons_as_for_one(max_reasons: int) -> None:
    rng = np.random.default_rng(max_reasons)
    n = 500
    lost = rng.integers(-2, 4, (n, len(NAMES))) * 5  # many ties and non-positive losses
    gain = rng.integers(0, 3, (n, len(NAMES))) * 5
    listed = rng.random(n) < 0.2
    thin = rng.random(n) < 0.2
    court = np.round(rng.random(n) * 50)
    codes, points = reasons(NAMES, listed, thin, court, lost, max_reasons, 10)
    better, gained = improvements(NAMES, gain, n, 10)
    for i in range(n):
        expected = _one_person(
            bool(listed[i]),
            bool(thin[i]),
            float(court[i]),
            list(lost[i]),
            list(gain[i]),
            max_reasons,
        )
        got = (codes[i].as_py(), points[i].as_py(), better[i].as_py(), gained[i].as_py())
        assert got == expected, i


def test_no_features_no_ranking() -> None:
    codes, points = reasons(
        [], np.array([True, False]), np.array([False, True]), np.array([3.0, 0.0]), None, 4, 1
    )
    assert codes.to_pylist() == [[COURT_LIST], [NOT_ENOUGH_HISTORY]]
    assert points.to_pylist() == [[3.0], [0.0]]
    assert improvements([], None, 2, 1)[0].to_pylist() == [[], []]
