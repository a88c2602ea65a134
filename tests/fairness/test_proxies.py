"""Proxies: the feature that copies the group is found, and alternatives keep their promises."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.fairness.inputs import CutSpec
from credo.fairness.proxies import cramers_v, proxy_report
from credo.models import ScorecardModel

Population = tuple[dict[str, NDArray[Any]], NDArray[np.int64], dict[str, NDArray[Any]]]


def test_cramers_v_is_one_for_a_copy_and_near_zero_for_noise() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 5000)
    assert cramers_v(a, a) == 1.0
    assert cramers_v(a, rng.integers(0, 2, 5000)) < 0.05


def test_the_postcode_is_named_the_proxy_and_alternatives_stay_within_budget(
    card: ScorecardModel, population: Population
) -> None:
    X, y, protected = population
    groups = {k: np.asarray(v, dtype=np.str_) for k, v in protected.items()}
    cuts = [CutSpec.parse_share("0.5"), CutSpec.parse_share("0.8")]
    found = proxy_report(card, X, y, groups, cuts, max_auc_loss=0.02)
    top = found.strength[0]
    assert (top["feature"], top["attribute"]) == ("postcode", "group")
    assert top["cramers_v"] > 0.6 and top["auc"] > 0.8
    assert all(s["cramers_v"] < 0.1 for s in found.strength if s["attribute"] == "sex")
    assert sorted(v.dropped[0] for v in found.drop_one) == sorted(card.features)
    base_auc, base_air = found.baseline.auc, min(a for a in found.baseline.worst_air if a)
    assert base_auc is not None and base_air < 0.8
    assert found.alternatives, "dropping the postcode must raise the lowest ratio"
    for variant in found.alternatives:
        assert variant.auc is not None and variant.auc >= base_auc - 0.02
        assert min(a for a in variant.worst_air if a is not None) > base_air
    assert found.to_dict()["alternatives"][0]["dropped"] == found.alternatives[0].dropped
