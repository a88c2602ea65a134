"""The lab: reproducible from its seed, and the dynamics the policies are meant to change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import run_cli

from credo.errors import ConfigError
from credo.lab import PRESETS, LabPolicy, World, load_policy, simulate
from credo.lab.measures import band_of, gini


def _last(run: dict, name: str) -> dict[str, Any]:
    policy = next(p for p in run["policies"] if p["policy"]["name"] == name)
    last: dict[str, Any] = policy["months"][-1]
    return last


@pytest.fixture(scope="module")
def compared() -> dict[str, Any]:
    policies = [PRESETS[n] for n in ("score", "no-connections", "cap-next-month")]
    return simulate(20_000, 12, policies, seed=5).to_dict()


def test_the_same_seed_gives_the_same_report_byte_for_byte(tmp_path: Path) -> None:
    args = ["simulate", "--people", "3000", "--months", "6", "--policy", "score"]
    args += ["--policy", "no-connections", "--seed", "11", "--out"]
    first = run_cli(*args, str(tmp_path / "a"), check=True)
    run_cli(*args, str(tmp_path / "b"), check=True)
    assert "simulated 3000 people x 6 months x 2 policies" in first.stdout
    one = (tmp_path / "a" / "report.json").read_bytes()
    assert one == (tmp_path / "b" / "report.json").read_bytes()
    other = simulate(3000, 6, [PRESETS["score"], PRESETS["no-connections"]], seed=12)
    assert other.to_dict() != simulate(3000, 6, [PRESETS["score"], PRESETS["no-connections"]], 11)
    page = (tmp_path / "a" / "report.html").read_text()
    assert page.count("<svg") == 12 and "src=" not in page and "href=" not in page


def test_dropping_low_scoring_contacts_segregates_the_graph_by_score(
    compared: dict[str, Any],
) -> None:
    scored = _last(compared, "score")["overall"]["segregation"]
    unlinked = _last(compared, "no-connections")["overall"]["segregation"]
    kept = simulate(20_000, 12, [PRESETS["score"]], seed=5, world=World(rewire_rate=0.0))
    without_dropping = _last(kept.to_dict(), "score")["overall"]["segregation"]
    assert scored > without_dropping + 0.02 and without_dropping > unlinked


def test_a_cap_kept_to_the_next_month_restricts_the_wrongly_listed_longer(
    compared: dict[str, Any],
) -> None:
    def total(name: str) -> int:
        policy = next(p for p in compared["policies"] if p["policy"]["name"] == name)
        return sum(m["overall"]["wrongful_restriction_days"] for m in policy["months"])

    assert total("cap-next-month") > total("score") > 0


def test_the_disadvantaged_group_ends_lower_and_figures_add_up(compared: dict[str, Any]) -> None:
    last = _last(compared, "score")
    a, b = last["by_group"]["a"], last["by_group"]["b"]
    assert b["mean_score"] < a["mean_score"]
    assert a["people"] + b["people"] == compared["people"]
    assert sum(last["overall"]["band_shares"]) == pytest.approx(1.0)
    days = a["wrongful_restriction_days"] + b["wrongful_restriction_days"]
    assert days == last["overall"]["wrongful_restriction_days"]
    for row in last["overall"]["transition"]:
        assert sum(row) == pytest.approx(1.0) or sum(row) == 0.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50))
def test_gini_is_between_zero_and_one_and_zero_when_equal(values: list[float]) -> None:
    array = np.asarray(values)
    assert -1e-12 <= gini(array) < 1.0
    assert gini(np.full(len(values), 7.0)) == pytest.approx(0.0, abs=1e-12)


def test_bands_follow_zhima() -> None:
    scores = np.array([350, 549, 550, 599, 600, 650, 699, 700, 950], dtype=np.float64)
    assert band_of(scores).tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 4]


def test_a_policy_file_with_a_bad_key_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("connections_weight: 2\n")
    with pytest.raises(ConfigError, match=r"mine.yaml.*connections_weight"):
        load_policy(str(path))
    path.write_text("connections_weight: 0.3\ncap_lift: next-month\n")
    assert load_policy(str(path)) == LabPolicy(
        name="mine", connections_weight=0.3, cap_lift="next-month"
    )
    with pytest.raises(ConfigError, match="no lab policy 'nope'"):
        load_policy("nope")
