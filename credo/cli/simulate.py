"""``credo simulate``: the simulation lab, every policy from the same seeded start."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from credo.cli._common import out, user_errors
from credo.errors import InputError

__all__ = ["simulate"]


@user_errors
def simulate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for report.json/.html.")],
    policy: Annotated[
        list[str] | None,
        typer.Option(
            help="A preset (score, no-connections, cap-3-working-days, cap-next-month,"
            " suining-2010) or a YAML file; repeat it to compare policies."
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            help="A published scenario instead of the population: delayed-impact (Liu et al.,"
            " ICML 2018, on the FICO TransRisk data)."
        ),
    ] = None,
    people: Annotated[int, typer.Option(help="People in the population.")] = 10_000,
    months: Annotated[int, typer.Option(help="Months to run.")] = 24,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same report.")] = 0,
) -> None:
    """Run a population under each policy; band shares, Gini, mobility, segregation, harm.
    Or a published scenario (--scenario delayed-impact)."""
    if scenario is not None:
        _scenario(scenario, out_dir)
        return
    if not policy:
        raise InputError("no policy to simulate", hint="pass --policy NAME (repeat it to compare)")
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


def _scenario(name: str, out_dir: Path) -> None:
    if name != "delayed-impact":
        raise InputError(f"no scenario {name!r}", hint="the one published scenario: delayed-impact")
    from credo.lab.delayed_impact import delayed_impact, write_report

    report = delayed_impact()
    paths = write_report(report, out_dir)
    lines = [
        f"  {s['utility_default']:g}/{s['utility_repaid']:g} {p['policy']}: selected "
        + ", ".join(
            f"{g} {p['selection_rate'][k]:.3f} ({p['expected_score_change'][k]:+.1f} points)"
            for k, g in enumerate(report["groups"])
        )
        for s in report["settings"]
        for p in s["policies"]
    ]
    out.print(
        "delayed impact (Liu et al. 2018) on the FICO data:\n"
        + "\n".join(lines)
        + f"\n-> {', '.join(str(p) for p in paths)}",
        highlight=False,
    )
