# mypy: disable-error-code="import-untyped"
"""The joint fit (decision 0108): every bin's points fitted together, monotone where declared.

The weight-of-evidence fit gives each feature one weight on its *marginal* evidence, so a
feature that carries risk only beside another (the instalment for a given amount) cannot be
read. Here each bin is its own indicator column and one L2-penalised logistic regression fits
all of them at once, so a bin's points are its *conditional* effect. Points stay explainable:
every row of the table is still one bin with its own points. Within a numeric feature whose
direction is declared, or shown by the unconstrained fit ("auto"), the interval bins' effects
are constrained monotone (the constrained optimum, not a projection: each bin's effect is the
previous one plus a non-negative step, found by bounded L-BFGS), so a better bin never scores
fewer points; bins the constraint pools (a zero step) are merged into one row. Categories and
the missing bin are free.

The penalty's strength is chosen by stratified k-fold log loss, as for the WoE fit. Everything
is single-threaded and deterministic: the same data give the same table bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import minimize
from sklearn.model_selection import StratifiedKFold

__all__ = ["JointFit", "fit_joint", "monotone_direction"]


@dataclass(frozen=True)
class JointFit:
    """Per feature, the bad-log-odds effect of each bin; the intercept; the chosen strength."""

    effects: list[NDArray[np.float64]]
    intercept: float
    C: float


@dataclass(frozen=True)
class _Design:
    """Indicator matrix of all bins and the map from parameters to bin effects."""

    X: sparse.csr_matrix  # rows x bins
    M: sparse.csr_matrix  # bins x parameters: effects = M @ params
    bounds: list[tuple[float | None, float | None]]
    offsets: list[int]  # first bin of each feature


def _design(
    indexes: list[NDArray[np.intp]],
    n_bins: list[int],
    monotone: list[tuple[int, int] | None],
) -> _Design:
    """``monotone[f]``: (number of leading interval bins, +1 rising / -1 falling effect)."""
    n = len(indexes[0])
    offsets = np.cumsum([0, *n_bins[:-1]]).tolist()
    cols = np.concatenate([idx + off for idx, off in zip(indexes, offsets, strict=True)])
    rows = np.tile(np.arange(n), len(indexes))
    total = int(sum(n_bins))
    X = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n, total))
    m_rows: list[int] = []
    m_cols: list[int] = []
    m_vals: list[float] = []
    bounds: list[tuple[float | None, float | None]] = []
    p = 0
    for off, k, mono in zip(offsets, n_bins, monotone, strict=True):
        ordered, sign = mono if mono is not None else (0, 0)
        if ordered >= 2:
            # effect_i = a + sign * (d_1 + ... + d_i), d >= 0
            for i in range(ordered):
                m_rows.append(off + i)
                m_cols.append(p)
                m_vals.append(1.0)
                for j in range(1, i + 1):
                    m_rows.append(off + i)
                    m_cols.append(p + j)
                    m_vals.append(float(sign))
            bounds.append((None, None))
            bounds.extend([(0.0, None)] * (ordered - 1))
            p += ordered
            start = ordered
        else:
            start = 0
        for i in range(start, k):
            m_rows.append(off + i)
            m_cols.append(p)
            m_vals.append(1.0)
            bounds.append((None, None))
            p += 1
    M = sparse.csr_matrix((m_vals, (m_rows, m_cols)), shape=(total, p))
    return _Design(X, M, bounds, offsets)


def _solve(
    A: sparse.csr_matrix,
    M: sparse.csr_matrix,
    y: NDArray[np.float64],
    C: float,
    bounds: list[tuple[float | None, float | None]],
    start: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Parameters (intercept last) minimising log loss + ||M params||^2 / (2C), within bounds."""
    p = A.shape[1]
    MtM = (M.T @ M).tocsr()
    lam = 1.0 / C

    def objective(z: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        w, b = z[:p], z[p]
        eta = A @ w + b
        loss = float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        r = 0.5 * (np.tanh(0.5 * eta) + 1.0) - y  # sigmoid(eta) - y, without overflow
        Mw = MtM @ w
        grad = np.empty(p + 1)
        grad[:p] = A.T @ r + lam * Mw
        grad[p] = float(np.sum(r))
        return loss + 0.5 * lam * float(w @ Mw), grad

    if start is None:
        start = np.zeros(p + 1)
        mean = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        start[p] = np.log(mean / (1 - mean))
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[*bounds, (None, None)],
        options={"maxiter": 5000, "maxcor": 20, "ftol": 1e-12, "gtol": 1e-7},
    )
    return np.asarray(result.x, dtype=np.float64)


def _log_loss(eta: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    return float(np.sum(np.logaddexp(0.0, eta) - y * eta))


def fit_joint(
    indexes: list[NDArray[np.intp]],
    n_bins: list[int],
    monotone: list[tuple[int, int] | None],
    y: NDArray[np.float64],
    grid: list[float],
    cv: int,
    random_state: int,
    *,
    C: float | None = None,
) -> JointFit:
    """The penalised fit of every bin's effect; ``C`` from ``grid`` by k-fold log loss unless
    given. ``indexes[f]`` is feature ``f``'s bin per row (``n_bins[f]`` bins)."""
    design = _design(indexes, n_bins, monotone)
    A = (design.X @ design.M).tocsr()
    if C is None:
        C = _best_strength(A, design, y, grid, cv, random_state)
    z = _solve(A, design.M, y, C, design.bounds, None)
    effects = design.M @ z[:-1]
    per_feature = [
        np.asarray(effects[off : off + k], dtype=np.float64)
        for off, k in zip(design.offsets, n_bins, strict=True)
    ]
    return JointFit(per_feature, float(z[-1]), float(C))


def _best_strength(
    A: sparse.csr_matrix,
    design: _Design,
    y: NDArray[np.float64],
    grid: list[float],
    cv: int,
    random_state: int,
) -> float:
    """The ``C`` of ``grid`` with the least held-out log loss summed over stratified folds
    (strongest penalty first, each fit warm-started from the previous one)."""
    smallest = int(min(y.sum(), len(y) - y.sum()))
    n_splits = min(cv, smallest)
    ordered = sorted(grid)
    if n_splits < 2 or len(ordered) <= 1:
        return ordered[len(ordered) // 2]
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    losses = np.zeros(len(ordered))
    for train, test in folds.split(np.zeros(len(y)), y):
        z: NDArray[np.float64] | None = None
        for i, c in enumerate(ordered):
            z = _solve(A[train], design.M, y[train], c, design.bounds, z)
            losses[i] += _log_loss(A[test] @ z[:-1] + z[-1], y[test])
    return float(ordered[int(np.argmin(losses))])


def monotone_direction(effects: NDArray[np.float64], counts: NDArray[np.float64]) -> int:
    """+1 if the bins' effects on bad odds rise with the value, -1 if they fall: the direction
    whose weighted isotonic fit leaves the smaller squared error (falling on a tie)."""
    from sklearn.isotonic import IsotonicRegression

    if len(effects) < 2:
        return -1
    x = np.arange(len(effects), dtype=np.float64)
    w = np.maximum(counts, 1e-9)
    errors = {}
    for sign in (-1, 1):
        fitted = IsotonicRegression(increasing=sign > 0).fit_transform(x, effects, sample_weight=w)
        errors[sign] = float(np.sum(w * (fitted - effects) ** 2))
    return 1 if errors[1] < errors[-1] else -1
