"""The simulated people at month zero: groups, capacity, history, risk, and a contact graph.

Everything is an array over people (the contact graph an ``(N, K)`` array of contact indices),
so a month of 100,000 people is a few dozen NumPy operations rather than 100,000 agent steps.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from credo.lab.policy import World

__all__ = ["NEVER", "People", "start"]

#: A day that never comes: a listing never fixed, a cap never lifted.
NEVER = np.iinfo(np.int64).max // 2


@dataclass(frozen=True)
class People:
    """State of every person; arrays are replaced, never written in place, between months."""

    group: NDArray[np.intp]
    capacity: NDArray[np.float64]
    risk: NDArray[np.float64]
    history: NDArray[np.float64]
    contacts: NDArray[np.intp]
    score: NDArray[np.float64]
    listed_from: NDArray[np.int64]
    listed_until: NDArray[np.int64]
    wrong: NDArray[np.bool_]

    def with_(self, **changes: object) -> People:
        return replace(self, **changes)  # type: ignore[arg-type]


def _contacts(group: NDArray[np.intp], world: World, rng: np.random.Generator) -> NDArray[np.intp]:
    """Each contact is in one's own group with chance ``homophily``, else anyone."""
    n, k = len(group), world.contacts
    members = [np.flatnonzero(group == g) for g in range(len(world.group_shares))]
    anyone = rng.integers(0, n, (n, k))
    same = np.empty((n, k), dtype=np.intp)
    for g, inside in enumerate(members):
        rows = np.flatnonzero(group == g)
        same[rows] = inside[rng.integers(0, len(inside), (len(rows), k))]
    pick = rng.random((n, k)) < world.homophily
    out = np.where(pick, same, anyone)
    self_loop = out == np.arange(n)[:, None]
    return np.where(self_loop, (out + 1) % n, out).astype(np.intp)


def start(n: int, world: World, rng: np.random.Generator) -> People:
    """The month-zero population; scores start from the person's own record alone."""
    shares = np.array([share for _, share in world.group_shares], dtype=np.float64)
    group = rng.choice(len(shares), n, p=shares / shares.sum()).astype(np.intp)
    capacity = rng.normal(0.0, 1.0, n) - world.capacity_gap * (group > 0)
    history = rng.gamma(2.0, 18.0, n)
    risk = 1.0 / (1.0 + np.exp(1.0 + 1.2 * capacity + rng.normal(0.0, 0.5, n)))
    none = np.full(n, -1, dtype=np.int64)
    return People(
        group=group,
        capacity=capacity,
        risk=risk / risk.mean(),
        history=history,
        contacts=_contacts(group, world, rng),
        score=np.zeros(n),
        listed_from=none,
        listed_until=none,
        wrong=np.zeros(n, dtype=bool),
    )
