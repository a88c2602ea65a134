"""``credo simulate --scenario delayed-impact`` against the paper's own code (Liu, Dean, Rolf,
Simchowitz, Hardt, ICML 2018), run here on the same FICO data, step for step as the authors'
notebook runs it: every curve, policy, threshold and rate equal within 1e-6."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from support import run_cli

from credo.lab.delayed_impact import UTILITIES, delayed_impact

REFERENCE = Path(__file__).parent / "delayedimpact_reference"
DATA = Path(__file__).resolve().parents[2] / "credo" / "lab" / "data" / "fico"
TOL = 1e-6


@pytest.fixture(scope="module")
def ref() -> Iterator[dict[str, Any]]:
    """The notebook's set-up (notebooks/FICO-figures.ipynb) over the reference modules."""
    sys.path.insert(0, str(REFERENCE))
    try:
        import distribution_to_loans_outcomes as dlo
        import fico
        import solve_credit as sc
    finally:
        sys.path.remove(str(REFERENCE))
    all_cdfs, performance, totals = fico.get_FICO_data(data_dir=f"{DATA}/")
    cdfs = all_cdfs[["White", "Black"]]
    cdf_b, cdf_a = cdfs["White"].values, cdfs["Black"].values
    repay_b, repay_a = performance["White"], performance["Black"]
    scores = cdfs.index

    def nearest(repay: Any) -> Any:
        return lambda i: repay[scores[scores.get_indexer([i], method="nearest")[0]]]

    def get_pmf(cdf: Any) -> Any:
        pis = np.zeros(cdf.size)
        pis[0] = cdf[0]
        for score in range(cdf.size - 1):
            pis[score + 1] = cdf[score + 1] - cdf[score]
        return pis

    group_ratio = np.array((totals["Black"], totals["White"]))
    yield {
        "dlo": dlo,
        "sc": sc,
        "scores": scores,
        "cdfs": (cdf_a, cdf_b),
        "repay": [nearest(repay_a), nearest(repay_b)],
        "pis": np.vstack([get_pmf(cdf_a), get_pmf(cdf_b)]),
        "props": group_ratio / group_ratio.sum(),
        "impact": [-150, 75],
    }
    for name in ("distribution_to_loans_outcomes", "fico", "solve_credit"):
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return delayed_impact()


def _close(a: Any, b: Any) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=0,
                               atol=TOL)  # fmt: skip


def test_the_outcome_curves_equal_the_reference(ref: dict[str, Any], ours: dict[str, Any]) -> None:
    dlo: ModuleType = ref["dlo"]
    _close(ours["scores"], ref["scores"].tolist())
    _close(ours["group_shares"], ref["props"])
    for k, group in enumerate(ours["by_group"]):
        curve = dlo.get_outcome_curve(ref["repay"][k], ref["pis"][k], ref["scores"], ref["impact"])
        _close(group["outcome_curve"]["expected_score_change"], curve)
        _close(group["outcome_curve"]["selection_rate"], list(reversed(1 - ref["cdfs"][k])))
        _close(group["pmf"], ref["pis"][k])
        # Each group's own harm threshold: the reference function, called per group (its
        # get_thresholds binds the last group's curve in both: a late-binding lambda).
        scores = ref["scores"].tolist()
        harm = dlo.get_mean_movement_threshold(
            ref["pis"][k], scores, ref["repay"][k], ref["impact"]
        )
        assert group["harm_threshold"] == pytest.approx(harm, abs=TOL)
    # The paper's point: the lower-scoring group's mean falls when too many of it are lent to.
    black = ours["by_group"][0]["outcome_curve"]["expected_score_change"]
    assert max(black) > 0 > black[-1]


@pytest.mark.parametrize("setting", range(len(UTILITIES)))
def test_the_three_policies_equal_the_reference(
    ref: dict[str, Any], ours: dict[str, Any], setting: int
) -> None:
    dlo, sc = ref["dlo"], ref["sc"]
    utils = list(UTILITIES[setting])
    scores = ref["scores"].tolist()
    mine = ours["settings"][setting]
    dp, eo, mp, _ = dlo.get_thresholds(ref["repay"], ref["pis"], ref["props"], utils, ref["impact"],
                                       scores)  # fmt: skip
    break_even = utils[0] / (utils[0] - utils[1])
    assert mine["break_even_repay_probability"] == pytest.approx(break_even, abs=TOL)
    data = sc.fairness_data(dlo.get_rhos(ref["repay"], scores), ref["pis"], ref["props"],
                            break_even)  # fmt: skip
    taus = {
        "max_profit": (data.max_profit_loans(), mp),
        "demographic_parity": (data.demographic_loans(), dp),
        "equal_opportunity": (data.equal_opp_loans(), eo),
    }
    assert [p["policy"] for p in mine["policies"]] == list(taus)
    for policy in mine["policies"]:
        tau, thresholds = taus[policy["policy"]]
        _close(policy["loans"], tau)
        _close(policy["threshold"], thresholds)
        for k in range(2):
            moves = [dlo.exp_move(s, ref["repay"][k], move_vec=ref["impact"]) for s in scores]
            _close(policy["selection_rate"][k], np.sum(ref["pis"][k] * tau[k]))
            _close(policy["expected_score_change"][k], np.sum(ref["pis"][k] * tau[k] * moves))
    rates = {p["policy"]: p["selection_rate"] for p in mine["policies"]}
    assert rates["demographic_parity"][0] == pytest.approx(rates["demographic_parity"][1], abs=TOL)
    util = dlo.get_utility_curve(ref["repay"], ref["pis"], ref["scores"], utils=utils)
    best = np.amax(util, axis=1)
    _close(mine["utility_curves"]["max_profit"], np.vstack([util[0] + best[1], util[1] + best[0]]))
    _close(
        mine["utility_curves"]["demographic_parity"],
        dlo.get_utility_curves_dempar(util, np.vstack(ref["cdfs"]), ref["props"], ref["scores"]),
    )
    _close(
        mine["utility_curves"]["equal_opportunity"],
        dlo.get_utility_curves_eqopp(util, ref["repay"], ref["pis"], ref["props"], ref["scores"]),
    )


def test_the_command_writes_the_report_and_its_plots(tmp_path: Path, ours: dict[str, Any]) -> None:
    done = run_cli("simulate", "--scenario", "delayed-impact", "--out", str(tmp_path), check=True)
    assert "-4/1 demographic_parity: selected Black 0.577 (-17.1 points)" in done.stdout
    assert json.loads((tmp_path / "report.json").read_text()) == json.loads(json.dumps(ours))
    page = (tmp_path / "report.html").read_text()
    assert page.count("<svg") == 1 + len(UTILITIES) and "src=" not in page
    wrong = run_cli("simulate", "--scenario", "nope", "--out", str(tmp_path / "x"))
    assert wrong.returncode == 3 and "no scenario 'nope'" in wrong.stderr
