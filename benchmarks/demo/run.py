"""Where ``credo demo --no-serve`` spends its time and memory, step by step.

Runs the demo's own pipeline (``credo.cli.demo._run``: generate, ingest, resolve, check against
the generator's truth, protected attributes, train, the monthly runs, the fairness audit,
status, logins, partner) in a fresh child process. Each step is timed, and the child's peak RSS
is reset before it (``/proc/self/clear_refs`` = 5) and read after it (``VmHWM``): the figure is
the process's peak *during* that step, including what earlier steps still hold (``rss after``
says how much is held when the step ends). The largest step peak is the demo's peak.

    nice -n 10 .venv/bin/python benchmarks/demo/run.py --people 10000
    nice -n 10 .venv/bin/python benchmarks/demo/run.py --people 100000 --months 12
    nice -n 10 .venv/bin/python benchmarks/demo/run.py --people 30000 --generate-only

Results go to ``out/demo-<people>.json`` beside this file; the demo folder is deleted unless
``--keep``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).parent / "out"
GIB = 1024**3


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field in bytes."""
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) * 1024 if found else 0


def _reset_peak() -> None:
    """Start the process's peak RSS again from its current RSS (Linux 4.0+)."""
    Path("/proc/self/clear_refs").write_text("5")


class Steps:
    """Each measured step's name, seconds, peak RSS during it and RSS after it."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.depth = 0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def measured(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # a step inside a step is part of it
                return fn(*args, **kwargs)
            self.depth += 1
            _reset_peak()
            before = _status("VmRSS")
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                row = {
                    "step": name,
                    "seconds": round(time.perf_counter() - start, 2),
                    "rss_before_gib": round(before / GIB, 3),
                    "peak_gib": round(_status("VmHWM") / GIB, 3),
                    "rss_after_gib": round(_status("VmRSS") / GIB, 3),
                }
                self.rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)

        return measured


def child(people: int, months: int, folder: Path) -> dict[str, Any]:
    """Run the demo's pipeline with each step measured; the figures as a dict."""
    import credo.cli.demo as demo
    import credo.dashboard.demo as dash
    import credo.fairness.protected as protected
    import credo.identity as identity
    import credo.ingest.batch as batch
    import credo.scoring.demo as scoring_demo
    import credo.sim as sim
    import credo.sim.truth as truth
    import credo.store.status as status
    from credo.cli._common import settings_for

    steps = Steps()
    # the demo also scores the month its training outcomes are observed in, before the
    # ``months`` month-ends it reports (credo.scoring.demo): count the runs, not the months
    month = itertools.count(1)
    score = scoring_demo.score

    def monthly(*args: Any, **kwargs: Any) -> Any:
        return steps.wrap(f"monthly run {next(month)}", score)(*args, **kwargs)

    sim.generate = steps.wrap("generate", sim.generate)  # type: ignore[assignment]
    batch.ingest_population = steps.wrap("ingest", batch.ingest_population)
    identity.resolve = steps.wrap("resolve", identity.resolve)  # type: ignore[assignment]
    truth.check_resolution = steps.wrap("check against truth", truth.check_resolution)
    protected.load_protected = steps.wrap("protected attributes", protected.load_protected)
    scoring_demo.train_model = steps.wrap("train", scoring_demo.train_model)
    scoring_demo.score = monthly  # type: ignore[assignment]
    scoring_demo.explain_score = steps.wrap("example explanation", scoring_demo.explain_score)
    demo._fairness = steps.wrap("fairness audit", demo._fairness)  # type: ignore[assignment]
    status.status_data = steps.wrap("status", status.status_data)
    dash.demo_logins = steps.wrap("logins", dash.demo_logins)
    dash.demo_partner = steps.wrap("partner", dash.demo_partner)

    settings = settings_for(folder / "credo.duckdb")
    started = time.perf_counter()
    run = demo._run(settings, folder / "population", people, months, logins=False, progress=False)
    seconds = time.perf_counter() - started
    return {
        "people": people,
        "months": months,
        "persons_resolved": run.resolved.persons,
        "events": run.status["events"],
        "seconds": round(seconds, 1),
        "peak_gib": round(_status("VmHWM") / GIB, 3),  # since the last step's reset
        "max_step_peak_gib": max(r["peak_gib"] for r in steps.rows),
        "steps": steps.rows,
    }


def generate_only(people: int, months: int, folder: Path) -> dict[str, Any]:
    """The demo's generation step alone (the population, no database)."""
    from credo.scoring.demo import HISTORY_MONTHS
    from credo.sim import generate
    from credo.sim.protected import DEMO_LINKS

    steps = Steps()
    started = time.perf_counter()
    summary = steps.wrap("generate", generate)(
        people, HISTORY_MONTHS + months, 7, folder / "population", links=DEMO_LINKS
    )
    return {
        "people": people,
        "months": months,
        "events": summary.total_rows,
        "seconds": round(time.perf_counter() - started, 1),
        "max_step_peak_gib": max(r["peak_gib"] for r in steps.rows),
        "steps": steps.rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--dir", type=Path, help="demo folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the demo folder")
    parser.add_argument("--generate-only", action="store_true", help="only the generation step")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = generate_only if args.generate_only else child
        print(json.dumps(run(args.people, args.months, args.dir)))
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="credo-demo-bench-"))
    cmd = [sys.executable, __file__, "--child", "--people", str(args.people)]
    cmd += ["--months", str(args.months), "--dir", str(folder)]
    cmd += ["--generate-only"] if args.generate_only else []
    try:
        done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    OUT.mkdir(exist_ok=True)
    name = "generate" if args.generate_only else "demo"
    (OUT / f"{name}-{args.people}.json").write_text(json.dumps(result, indent=1))
    print(f"{'step':<24}{'seconds':>9}{'peak GiB':>10}{'rss after':>11}")
    for r in result["steps"]:
        print(
            f"{r['step']:<24}{r['seconds']:>9.1f}{r['peak_gib']:>10.2f}{r['rss_after_gib']:>11.2f}"
        )
    print(
        f"{args.people:,} people, {result['events']:,} events/rows: {result['seconds']:.0f} s, "
        f"peak {result['max_step_peak_gib']:.2f} GiB"
    )


if __name__ == "__main__":
    main()
