"""Small random-draw helpers shared by the person and source generators.

Behaviour is driven by one latent creditworthiness per person through logistic links.
Rates such as "1.5% of persons are on the court list" are hit by calibrating the link's
intercept on the drawn population (``calibrated``) rather than by hand-tuned constants,
so the configured shares hold for any population size and seed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "IntArray", "calibrated", "sigmoid", "unique_ints"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def calibrated(logit: FloatArray, target_mean: float) -> FloatArray:
    """Probabilities ``sigmoid(logit + b)`` with ``b`` chosen so that their mean is the target."""
    if logit.size == 0:
        return np.zeros(0)
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(sigmoid(logit + mid).mean()) < target_mean:
            lo = mid
        else:
            hi = mid
    return sigmoid(logit + (lo + hi) / 2)


def unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> IntArray:
    """``n`` distinct integers in [low, high), in draw order (redrawing the few duplicates)."""
    values = rng.integers(low, high, size=n, dtype=np.int64)
    while True:
        _, first = np.unique(values, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            return values
        values[dup] = rng.integers(low, high, size=int(dup.sum()), dtype=np.int64)
