"""Two trees' monthly runs on one database, interleaved: is a change slower?

Each contender (the bare GROUP BY and ``score``) runs in a fresh child process of its own tree
(``benchmarks/monthly/run.py --child``, with that tree's ``out/model.json``); the trees take
turns, in alternating order each round, so load on a shared box falls on both alike. Prints
every run, then per tree the medians and the median of ``score / bare`` within a round.

    git archive BASE | tar -x -C /tmp/before   # and train its model once (run.py --repeat 1)
    .venv/bin/python benchmarks/monthly/compare.py /tmp/before . \\
        benchmarks/monthly/out/bench-100000-10000000.duckdb --repeat 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path


def run(root: Path, kind: str, db: Path) -> tuple[float, float | None]:
    """Wall seconds and, where the tree's ``run.py`` reports them, CPU seconds."""
    command = [
        sys.executable,
        str(root / "benchmarks/monthly/run.py"),
        "--child",
        kind,
        "--db",
        str(db),
        "--model",
        str(root / "benchmarks/monthly/out/model.json"),
    ]
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    line = json.loads(next(x for x in out.splitlines() if x.startswith('{"kind"')))
    cpu = line.get("cpu_s")
    return float(line["wall_s"]), None if cpu is None else float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    times: dict[str, dict[str, list[float]]] = {t: {"bare": [], "score": []} for t in trees}
    cpus: dict[str, dict[str, list[float]]] = {t: {"bare": [], "score": []} for t in trees}
    for r in range(args.repeat):
        order = list(trees) if r % 2 == 0 else list(trees)[::-1]
        for tree in order:
            for kind in ("bare", "score"):
                wall, cpu = run(trees[tree], kind, args.db)
                times[tree][kind].append(wall)
                if cpu is not None:
                    cpus[tree][kind].append(cpu)
                shown = "" if cpu is None else f", {cpu:.2f} CPU s"
                print(r, tree, kind, f"{wall:.2f} s{shown}", flush=True)
    for tree, t in times.items():
        ratios = [s / b for s, b in zip(t["score"], t["bare"], strict=True)]
        print(
            f"{tree}: bare {statistics.median(t['bare']):.2f} s, score"
            f" {statistics.median(t['score']):.2f} s (medians of {args.repeat}); score/bare"
            f" per round median {statistics.median(ratios):.2f}x"
        )
        c = cpus[tree]
        if len(c["bare"]) == len(c["score"]) == args.repeat:
            cpu_ratios = [s / b for s, b in zip(c["score"], c["bare"], strict=True)]
            print(
                f"{tree}: CPU bare {statistics.median(c['bare']):.2f} s, score"
                f" {statistics.median(c['score']):.2f} s; score/bare per round median"
                f" {statistics.median(cpu_ratios):.2f}x"
            )


if __name__ == "__main__":
    main()
