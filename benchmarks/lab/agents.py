"""Is an agent framework fast enough for the lab? (issue 18: "vectorised where an agent framework
is too slow (measure and say)"; decision 0902).

One rule of the lab's month, the month-end score (:func:`credo.lab.dynamics.own_score` plus the
connections term: the mean of the contacts' last scores), written as a Mesa agent's ``step`` and
as one NumPy expression over everyone, on the same people; the median of ``--repeat`` months
each, and the extrapolation to ``--months`` x ``--policies`` (one rule only: the lab has five).
Mesa is not a dependency of Credo; install it apart to run this:

    pip install --target /tmp/mesa --no-deps mesa==3.3.1 tqdm
    PYTHONPATH=/tmp/mesa:. python benchmarks/lab/agents.py --people 100000
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from credo.lab.dynamics import own_score
from credo.lab.population import People

K = 8
WEIGHT = 0.15


def _people(n: int, seed: int) -> tuple[Any, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    history = rng.integers(0, 120, n).astype(np.float64)
    capacity = rng.normal(0.0, 1.0, n)
    contacts = rng.integers(0, n, (n, K))
    last = np.rint(rng.normal(620.0, 60.0, n))
    return (history, capacity), contacts, last


def _vectorised(history: Any, capacity: Any, contacts: Any, last: Any) -> Any:
    people = People.__new__(People)  # only the two fields own_score reads
    object.__setattr__(people, "history", history)
    object.__setattr__(people, "capacity", capacity)
    own = own_score(people)
    return np.rint((1 - WEIGHT) * own + WEIGHT * last[contacts].mean(axis=1))


def _mesa_model(history: Any, capacity: Any, contacts: Any, last: Any) -> Any:
    import math

    import mesa

    class Person(mesa.Agent):  # type: ignore[misc]
        def __init__(self, model: Any, index: int) -> None:
            super().__init__(model)
            self.index = index
            self.history = float(history[index])
            self.capacity = float(capacity[index])
            self.contacts = [int(c) for c in contacts[index]]
            self.score = 0.0

        def step(self) -> None:
            own = 480.0 + 200.0 * (1.0 - math.exp(-self.history / 36.0)) + 60.0 * self.capacity
            friends = sum(self.model.last[c] for c in self.contacts) / len(self.contacts)
            self.score = round((1 - WEIGHT) * own + WEIGHT * friends)

    class Lab(mesa.Model):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(seed=0)
            self.last = [float(s) for s in last]
            for i in range(len(history)):
                Person(self, i)

        def step(self) -> None:
            self.agents.do("step")

    return Lab()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--policies", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    (history, capacity), contacts, last = _people(args.people, 0)
    vec, agents = [], []
    expected = _vectorised(history, capacity, contacts, last)
    model = _mesa_model(history, capacity, contacts, last)
    for _ in range(args.repeat):
        began = time.perf_counter()
        _vectorised(history, capacity, contacts, last)
        vec.append(time.perf_counter() - began)
        began = time.perf_counter()
        model.step()
        agents.append(time.perf_counter() - began)
    got = np.array([a.score for a in sorted(model.agents, key=lambda a: a.index)])
    assert np.array_equal(got, expected), "the two versions of the rule disagree"
    months = args.months * args.policies
    for name, runs in (("numpy", vec), ("mesa", agents)):
        one = statistics.median(runs)
        print(
            f"{name}: one rule, one month, {args.people:,} people: median {one:.3f} s;"
            f" x {months} months x policies: {one * months:.1f} s"
        )
    print(f"ratio mesa / numpy: {statistics.median(agents) / statistics.median(vec):.0f}")


if __name__ == "__main__":
    main()
