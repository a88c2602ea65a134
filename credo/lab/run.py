"""Run the lab: one start, every policy from it, figures per month; ``report.json``/``.html``.

The same seed gives the same start and the same monthly random draws under every policy, so
each run repeats bit for bit and two policies differ only by their decisions (decision 0902).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from credo.errors import InputError
from credo.lab.dynamics import month, own_score
from credo.lab.measures import measure
from credo.lab.policy import BANDS, LabPolicy, World
from credo.lab.population import start

__all__ = ["FORMAT", "LabRun", "simulate"]

FORMAT = "credo.lab.simulation"


@dataclass
class LabRun:
    """Per policy and month, the figures of :func:`credo.lab.measures.measure`."""

    seed: int
    people: int
    months: int
    world: World
    policies: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": 1,
            "seed": self.seed,
            "people": self.people,
            "months": self.months,
            "bands": [name for _, name in BANDS],
            "world": asdict(self.world),
            "policies": self.policies,
        }

    def write(self, directory: str | Path) -> list[Path]:
        from credo.lab.report import to_html

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        paths = [out / "report.json", out / "report.html"]
        paths[0].write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        paths[1].write_text(to_html(data), encoding="utf-8")
        return paths


def simulate(
    people: int, months: int, policies: list[LabPolicy], seed: int, world: World | None = None
) -> LabRun:
    """Run every policy for ``months`` from the same start of ``people`` persons."""
    world = world or World()
    if people < 2 or months < 1 or not policies:
        raise InputError(
            f"the lab needs at least 2 people, 1 month and 1 policy (got {people} people,"
            f" {months} months, {len(policies)} policies)"
        )
    names = [name for name, _ in world.group_shares]
    first = start(people, world, np.random.default_rng([seed, 0]))
    first = first.with_(score=np.rint(np.clip(own_score(first), 350, 950)))
    runs = []
    for policy in policies:
        rng = np.random.default_rng([seed, 1])
        state, rows = first, []
        for m in range(months):
            before = state.score
            state, days = month(state, m, policy, world, rng)
            figures = measure(before, state.score, state.contacts, days, state.group, names)
            rows.append({"month": m + 1, **figures})
        runs.append({"policy": policy.model_dump(mode="json"), "months": rows})
    return LabRun(seed=seed, people=people, months=months, world=world, policies=runs)
