"""Two trees' Spark monthly runs on one lake, interleaved: did a change make Spark faster?

Each run is a fresh child process of its tree (``PYTHONPATH`` = the tree) that starts a local
Spark session, then times :func:`credo.spark.monthly.run_monthly` alone (JVM start-up not
counted). The trees take turns, in alternating order each round, so load on a shared box falls
on both alike. Besides wall time, each run's CPU seconds (the Python driver's and the JVM's,
from ``/proc``) are recorded: on a loaded box they say what the run cost better than wall time.

    git archive BASE | tar -x -C /tmp/before
    .venv/bin/python benchmarks/monthly/spark_compare.py /tmp/before . LAKE --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import datetime as dt, json, os, resource, sys, time
from pathlib import Path
from credo.spark.lake import Lake
from credo.spark.monthly import run_monthly
from credo.spark.session import spark_session

def jvm_cpu(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

spark = spark_session(sys.argv[2], app="credo-bench")
spark.sparkContext.setLogLevel("ERROR")
pid = spark.sparkContext._gateway.proc.pid
lake = Lake.open(Path(sys.argv[1]))
cpu0, own0, start = jvm_cpu(pid), time.process_time(), time.perf_counter()
run = run_monthly(spark, lake, dt.date.fromisoformat(sys.argv[3]))
wall = time.perf_counter() - start
cpu = jvm_cpu(pid) - cpu0 + time.process_time() - own0
spark.stop()
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "persons": run.meta["persons"]}))
"""


def run(root: Path, lake: Path, master: str, as_of: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(lake), master, as_of],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=root,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("lake", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--as-of", default="2026-10-31")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for r in range(args.repeat):
        for tree in list(trees) if r % 2 == 0 else list(trees)[::-1]:
            runs[tree].append(run(trees[tree], args.lake.resolve(), args.master, args.as_of))
            last = runs[tree][-1]
            print(f"{r} {tree}: {last['wall_s']:.1f} s wall, {last['cpu_s']:.1f} s CPU", flush=True)
    for tree, rows in runs.items():
        wall = statistics.median(x["wall_s"] for x in rows)
        cpu = statistics.median(x["cpu_s"] for x in rows)
        print(
            f"{tree}: median {wall:.1f} s wall, {cpu:.1f} s CPU ({args.repeat} runs, {args.master})"
        )


if __name__ == "__main__":
    main()
