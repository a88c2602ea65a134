"""``credo simulate``: the simulation lab, every policy from the same seeded start."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from credo.cli._common import out, user_errors

__all__ = ["simulate"]


@user_errors
def simulate(
    policy: Annotated[
        list[str],
        typer.Option(
            help="A preset (score, no-connections, cap-3-working-days, cap-next-month,"
            " suining-2010) or a YAML file; repeat it to compare policies."
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for report.json/.html.")],
    people: Annotated[int, typer.Option(help="People in the population.")] = 10_000,
    months: Annotated[int, typer.Option(help="Months to run.")] = 24,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same report.")] = 0,
) -> None:
    """Run a population under each policy; band shares, Gini, mobility, segregation, harm."""
    from credo.lab.policy import load_policy
    from credo.lab.run import simulate as run_lab

    policies = [load_policy(p) for p in policy]
    began = time.perf_counter()
    run = run_lab(people, months, policies, seed)
    seconds = time.perf_counter() - began
    paths = run.write(out_dir)
    out.print(
        f"simulated {people} people x {months} months x {len(policies)} policies in"
        f" {seconds:.1f} s -> {', '.join(str(p) for p in paths)}",
        highlight=False,
    )
