"""scikit-learn's estimator checks, run on ``Scorecard``.

Every check applies: a scorecard declares ``allow_nan`` (missing values get their own bin),
``string`` (text columns are binned as categories) and ``multi_class=False`` (bad/good only), and
the checks then test exactly those behaviours. No check is expected to fail.

One check is left out rather than skipped: ``check_array_api_input`` tests estimators that
compute on array-API namespaces (CuPy, PyTorch); a scorecard bins and sums on NumPy by design,
and scikit-learn itself only runs that check when SCIPY_ARRAY_API is set.
"""

from __future__ import annotations

from typing import Any

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from credo.models import Scorecard

_ALL = parametrize_with_checks(
    # A small search grid keeps the ~50 checks fast; the contract does not depend on it.
    [Scorecard(default_dimension="unassigned", cv=3, Cs=(0.1, 1.0))],
)
_NOT_APPLICABLE = {"check_array_api_input"}
_CHECKS = [
    (est, check)
    for est, check in _ALL.mark.args[1]
    if getattr(check, "func", check).__name__ not in _NOT_APPLICABLE
]


@pytest.mark.parametrize(
    ("estimator", "check"),
    _CHECKS,
    ids=[getattr(c, "func", c).__name__ for _, c in _CHECKS],
)
def test_sklearn_compatible(estimator: Scorecard, check: Any) -> None:
    check(estimator)


def test_only_the_array_api_check_is_left_out() -> None:
    assert len(_ALL.mark.args[1]) - len(_CHECKS) == 1
