# mypy: disable-error-code="import-untyped"
"""The joint fit (decision 0108): every bin's points fitted together, monotone where declared.

The weight-of-evidence fit gives each feature one weight on its *marginal* evidence, so a
feature that carries risk only beside another (the instalment for a given amount) cannot be
read. Here each bin is its own indicator column and one L2-penalised logistic regression fits
all of them at once, so a bin's points are its *conditional* effect. Points stay explainable:
every row of the table is still one bin with its own points.

Monotone where the data is: within a numeric feature whose direction is declared, or shown by
the free fit ("auto"), neighbouring interval bins whose effects run against the direction are
pooled (weighted pool-adjacent-violators on the fitted effects) and the whole model is refitted
on the pooled bins, until no feature runs against its direction. A pooled group is one row of
the table. Categories and the missing bin are free.

The penalty's strength is chosen by stratified k-fold log loss on the free fit. Everything is
single-threaded and deterministic: the same data give the same table bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from sklearn.model_selection import StratifiedKFold

from credo.models.binning import weights_of_evidence

__all__ = ["Monotone", "PooledFit", "best_strength", "fit_pooled", "monotone_direction"]

#: Per feature: None (free), or (number of leading interval bins, +1 if the effect on bad odds
#: rises with the value, -1 if it falls).
Monotone = tuple[int, int] | None


@dataclass(frozen=True)
class PooledFit:
    """Per feature: old bin -> new bin, and each new bin's effect on the bad log odds."""

    mappings: list[NDArray[np.intp]]
    effects: list[NDArray[np.float64]]
    intercept: float


#: The penalty on each feature's weight on its own evidence: light, as in the WoE fit's range.
_EVIDENCE_PENALTY = 1.0
#: L-BFGS's relative loss tolerance while searching the strength; the fits that make the table
#: use 1e-12. The search only compares held-out losses, and on the four benchmark tables it
#: picks the same strength at 1e-7 as at 1e-12 with a third to a half of the iterations.
_SEARCH_FTOL = 1e-8


def _woe(
    index: NDArray[np.intp], k: int, y: NDArray[np.float64], prior: float
) -> NDArray[np.float64]:
    counts = np.bincount(index, minlength=k).astype(np.float64)
    bads = np.bincount(index, weights=y, minlength=k).astype(np.float64)
    total_bad = float(y.sum())
    return weights_of_evidence(counts - bads, bads, len(y) - total_bad, total_bad, prior)


@dataclass(frozen=True)
class _Design:
    """The design without a matrix: each row's bin per feature (as a column number among all
    bins), and each feature's weight of evidence per bin.

    The model's columns are one indicator per bin, then each feature's weight of evidence; a
    row has exactly one bin per feature, so ``X @ w`` is a gather of one value per bin and
    ``X.T @ r`` one ``bincount``: half the work of a sparse product, and no matrix built.
    """

    columns: NDArray[np.intp]  # (features, rows): the row's bin, numbered among all bins
    woes: list[NDArray[np.float64]]
    n_bins: list[int]

    @property
    def p(self) -> int:
        return int(sum(self.n_bins))

    def penalties(self, C: float) -> NDArray[np.float64]:
        bins = np.full(self.p, 1.0 / C)
        return np.concatenate([bins, np.full(len(self.n_bins), _EVIDENCE_PENALTY)])

    def per_bin(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each bin's total effect on the log odds: its own term plus weight times evidence."""
        p = self.p
        return z[:p] + np.repeat(z[p:-1], self.n_bins) * np.concatenate(self.woes)

    def eta(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """The linear predictor of every row (``X @ coef + intercept``)."""
        per_bin = self.per_bin(z)
        eta = np.full(self.columns.shape[1], float(z[-1]))
        for column in self.columns:  # one gather per feature, summed in a fixed order
            eta += per_bin[column]
        return eta

    def gradient(self, r: NDArray[np.float64], z: NDArray[np.float64]) -> NDArray[np.float64]:
        """``X.T @ r`` (bins, then evidence weights) and ``sum(r)``, unpenalised."""
        p, f = self.p, len(self.n_bins)
        by_bin = np.bincount(self.columns.ravel(), weights=np.tile(r, f), minlength=p)
        evidence = np.add.reduceat(by_bin * np.concatenate(self.woes), self._starts())
        return np.concatenate([by_bin, evidence, [float(np.sum(r))]])

    def _starts(self) -> NDArray[np.intp]:
        return np.cumsum([0, *self.n_bins[:-1]]).astype(np.intp)

    def effects(self, z: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        """Each bin's effect: its weight of evidence times the feature's weight, plus its own."""
        return _split(self.per_bin(z), self.n_bins)

    def parameters(
        self, effects: list[NDArray[np.float64]], intercept: float
    ) -> NDArray[np.float64]:
        """Parameters giving ``effects`` (all of it in the bins' own terms)."""
        return np.concatenate([*effects, np.zeros(len(self.n_bins)), [intercept]])


def _design(
    indexes: list[NDArray[np.intp]],
    n_bins: list[int],
    y: NDArray[np.float64],
    prior: float,
    woes: list[NDArray[np.float64]] | None = None,
) -> _Design:
    """The design on these rows; weights of evidence from ``woes`` or else from these rows."""
    if woes is None:
        woes = [_woe(idx, k, y, prior) for idx, k in zip(indexes, n_bins, strict=True)]
    offsets = np.cumsum([0, *n_bins[:-1]])
    columns = np.stack([idx + off for idx, off in zip(indexes, offsets, strict=True)])
    return _Design(np.ascontiguousarray(columns, dtype=np.intp), woes, list(n_bins))


def _solve(
    design: _Design,
    y: NDArray[np.float64],
    penalties: NDArray[np.float64],
    start: NDArray[np.float64] | None,
    *,
    ftol: float = 1e-12,
) -> NDArray[np.float64]:
    """Coefficients and the intercept (last) minimising log loss + sum(penalties * coef^2) / 2."""
    p = len(penalties)

    def objective(z: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        w = z[:p]
        eta = design.eta(z)
        loss = float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        r = 0.5 * (np.tanh(0.5 * eta) + 1.0) - y  # sigmoid(eta) - y, without overflow
        grad = design.gradient(r, z)
        pw = penalties * w
        grad[:p] += pw
        return loss + 0.5 * float(w @ pw), grad

    if start is None:
        start = np.zeros(p + 1)
        mean = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        start[p] = np.log(mean / (1 - mean))
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "maxcor": 20, "ftol": ftol, "gtol": 1e-6},
    )
    return np.asarray(result.x, dtype=np.float64)


def _log_loss(eta: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    return float(np.sum(np.logaddexp(0.0, eta) - y * eta))


def best_strength(
    indexes: list[NDArray[np.intp]],
    n_bins: list[int],
    y: NDArray[np.float64],
    prior: float,
    grid: list[float],
    cv: int,
    random_state: int,
) -> float:
    """The ``C`` of ``grid`` with the least held-out log loss of the free fit, summed over
    stratified folds (strongest penalty first, each fold's fit warm-started from its previous;
    the search stops once the loss has risen twice past its best)."""
    smallest = int(min(y.sum(), len(y) - y.sum()))
    n_splits = min(cv, smallest)
    ordered = sorted(grid)
    if n_splits < 2 or len(ordered) <= 1:
        return float(ordered[len(ordered) // 2])
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    splits = []
    for train, test in folds.split(np.zeros(len(y)), y):
        # each fold's weights of evidence from its own training rows: no peeking at the test
        fitted = _design([i[train] for i in indexes], n_bins, y[train], prior)
        held = _design([i[test] for i in indexes], n_bins, y[test], prior, fitted.woes)
        splits.append((fitted, y[train], held, y[test]))
    starts: list[NDArray[np.float64] | None] = [None] * len(splits)
    losses: list[float] = []
    for c in ordered:
        loss = 0.0
        for k, (fold, y_train, held_out, y_test) in enumerate(splits):
            z = _solve(fold, y_train, fold.penalties(c), starts[k], ftol=_SEARCH_FTOL)
            starts[k] = z
            loss += _log_loss(held_out.eta(z), y_test)
        losses.append(loss)
        # held-out loss is unimodal in C here: two rises past the best end the search
        if len(losses) >= 3 and losses[-1] > losses[-2] > min(losses):
            break
    return float(ordered[int(np.argmin(losses))])


def fit_free(
    indexes: list[NDArray[np.intp]],
    n_bins: list[int],
    y: NDArray[np.float64],
    prior: float,
    C: float,
) -> tuple[list[NDArray[np.float64]], float]:
    """Every bin's effect, unconstrained, at strength ``C``; and the intercept."""
    design = _design(indexes, n_bins, y, prior)
    z = _solve(design, y, design.penalties(C), None)
    return design.effects(z), float(z[-1])


def _split(w: NDArray[np.float64], n_bins: list[int]) -> list[NDArray[np.float64]]:
    bounds = np.cumsum([0, *n_bins])
    return [np.asarray(w[a:b], dtype=np.float64) for a, b in pairwise(bounds)]


def fit_pooled(
    indexes: list[NDArray[np.intp]],
    n_bins: list[int],
    monotone: list[Monotone],
    y: NDArray[np.float64],
    prior: float,
    C: float,
    start: tuple[list[NDArray[np.float64]], float],
) -> PooledFit:
    """From the free fit ``start`` (effects, intercept): pool each monotone feature's violating
    neighbours and refit everything, until no feature runs against its direction."""
    mappings = [np.arange(k, dtype=np.intp) for k in n_bins]
    effects = [e.copy() for e in start[0]]
    intercept = start[1]
    counts = [
        np.bincount(idx, minlength=k).astype(np.float64)
        for idx, k in zip(indexes, n_bins, strict=True)
    ]
    while True:  # each round pools at least one pair of bins, or stops
        changed = False
        for f, mono in enumerate(monotone):
            if mono is None:
                continue
            ordered, sign = mono
            k = int(mappings[f][:ordered].max()) + 1  # interval bins now
            weights = np.bincount(mappings[f], weights=counts[f]).astype(np.float64) + 1e-12
            groups = _pava(effects[f][:k], weights[:k], sign)
            if int(groups[-1]) + 1 == k:
                continue
            changed = True
            rest = np.arange(len(effects[f]) - k, dtype=np.intp) + int(groups[-1]) + 1
            regroup = np.concatenate([groups, rest])
            effects[f] = np.bincount(regroup, weights=weights * effects[f]) / np.bincount(
                regroup, weights=weights
            )
            mappings[f] = regroup[mappings[f]]
        if not changed:
            return PooledFit(mappings, effects, intercept)
        current = [m[idx] for m, idx in zip(mappings, indexes, strict=True)]
        design = _design(current, [len(e) for e in effects], y, prior)
        z = _solve(design, y, design.penalties(C), design.parameters(effects, intercept))
        effects, intercept = design.effects(z), float(z[-1])


def _pava(
    effects: NDArray[np.float64], weights: NDArray[np.float64], sign: int
) -> NDArray[np.intp]:
    """Group number per bin after pooling adjacent violators: effects rise (``sign`` +1) or fall
    (-1) strictly from group to group; equal neighbours are pooled too."""
    blocks: list[list[float]] = []  # [first bin, weight, weighted sum]
    for i, (e, w) in enumerate(zip(effects, weights, strict=True)):
        w = max(float(w), 1e-12)
        blocks.append([float(i), w, w * float(e)])
        while len(blocks) > 1:
            prev, last = blocks[-2], blocks[-1]
            step = last[2] / last[1] - prev[2] / prev[1]
            if sign * step > 0:
                break
            prev[1] += last[1]
            prev[2] += last[2]
            blocks.pop()
    group = np.zeros(len(effects), dtype=np.intp)
    for g, block in enumerate(blocks):
        group[int(block[0]) :] = g
    return group


def monotone_direction(effects: NDArray[np.float64], counts: NDArray[np.float64]) -> int:
    """+1 if the bins' effects on bad odds rise with the value, -1 if they fall: the direction
    whose pooled (isotonic) fit leaves the smaller weighted squared error (falling on a tie)."""
    if len(effects) < 2:
        return -1
    w = np.maximum(counts, 1e-12)
    errors = {}
    for sign in (-1, 1):
        group = _pava(effects, w, sign)
        fitted = np.bincount(group, weights=w * effects) / np.bincount(group, weights=w)
        errors[sign] = float(np.sum(w * (fitted[group] - effects) ** 2))
    return 1 if errors[1] < errors[-1] else -1
