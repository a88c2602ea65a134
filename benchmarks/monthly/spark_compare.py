"""Two trees' Spark monthly runs on one lake, interleaved: did a change make Spark faster?

Each run is a fresh child process of its tree (``PYTHONPATH`` = the tree) that starts a local
Spark session, then times :func:`credo.spark.monthly.run_monthly` alone (JVM start-up not
counted). The trees take turns, in alternating order each round, so load on a shared box falls
on both alike. Besides wall time, each run's CPU seconds (the Python driver's, and the JVM's
with its Python workers', from ``/proc``) are recorded: on a loaded box they say what the run
cost better than wall time. So are the peak RSS of the driver (the Python process, and the JVM,
which in local mode is the executor too) and of the largest Python worker, and whether every
run wrote the same snapshots, bit for bit, as the first.

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
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from credo.spark.lake import read_snapshots
from credo.spark.parity import compare_snapshots

CHILD = """
import datetime as dt, json, os, sys, time
from pathlib import Path
from credo.spark.lake import Lake
from credo.spark.monthly import run_monthly
from credo.spark.session import spark_session

def stat(pid):
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

def tree(pid):
    # the JVM and its descendants (the Python daemon and the workers it forks)
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(stat(entry.name)[1]), []).append(int(entry.name))
            except OSError:
                pass
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found

def cpu(pid):
    # user + system of the live tree, and of its children already reaped (cutime, cstime)
    total = 0
    for p in tree(pid):
        try:
            total += sum(int(f) for f in stat(p)[11:15])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")

def hwm(pid):
    # VmHWM, not ru_maxrss: a child keeps the RSS its parent had at fork in ru_maxrss across
    # exec, so a parent holding a run's rows inflated the next child's figure
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

spark = spark_session(sys.argv[2], app="credo-bench")
spark.sparkContext.setLogLevel("ERROR")
pid = spark.sparkContext._gateway.proc.pid
lake = Lake.open(Path(sys.argv[1]))
rss0 = hwm("self")
cpu0, own0, start = cpu(pid), time.process_time(), time.perf_counter()
run = run_monthly(spark, lake, dt.date.fromisoformat(sys.argv[3]))
wall = time.perf_counter() - start
used = cpu(pid) - cpu0 + time.process_time() - own0
workers = max([hwm(p) for p in tree(pid)[1:]] or [0.0])
print(json.dumps({
    "wall_s": wall, "cpu_s": used, "persons": run.meta["persons"], "folder": str(run.folder),
    "driver_py_rss_mb": hwm("self"),
    "driver_py_rss_before_run_mb": rss0, "jvm_rss_mb": hwm(pid), "worker_rss_mb": workers,
}))
spark.stop()
"""


def written(folder: Path) -> pa.Table:
    """The snapshots a run just wrote: one file (before decision 0813) or part files, whichever
    is newer (both trees write into the same run folder)."""
    single, parts = folder / "snapshots.parquet", folder / "snapshots"
    if single.exists() and (not parts.exists() or single.stat().st_mtime > parts.stat().st_mtime):
        return pq.read_table(single)
    return read_snapshots(parts)


def run(root: Path, lake: Path, master: str, as_of: str) -> dict[str, Any]:
    """One run of ``root``'s code in a child process of its own; its figures."""
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(lake), master, as_of],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=root,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
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
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in trees}
    first: pa.Table | None = None
    unequal = 0
    for r in range(args.repeat):
        for tree in list(trees) if r % 2 == 0 else list(trees)[::-1]:
            runs[tree].append(run(trees[tree], args.lake.resolve(), args.master, args.as_of))
            last = runs[tree][-1]
            rows = written(Path(last["folder"]))
            first = rows if first is None else first
            unequal += len({d.person_id for d in compare_snapshots(first, rows)})
            print(
                f"{r} {tree}: {last['wall_s']:.1f} s wall, {last['cpu_s']:.1f} s CPU,"
                f" peak RSS driver (Python) {last['driver_py_rss_mb']:.0f} MB,"
                f" JVM {last['jvm_rss_mb']:.0f} MB, Python worker {last['worker_rss_mb']:.0f} MB",
                flush=True,
            )
    print(f"snapshots unequal to the first run's: {unequal} (persons, all runs together)")
    for tree, rows in runs.items():
        wall = statistics.median(x["wall_s"] for x in rows)
        cpu = statistics.median(x["cpu_s"] for x in rows)
        rss = statistics.median(x["driver_py_rss_mb"] for x in rows)
        jvm = statistics.median(x["jvm_rss_mb"] for x in rows)
        print(
            f"{tree}: median {wall:.1f} s wall, {cpu:.1f} s CPU, driver peak RSS {rss:.0f} MB"
            f" (Python), {jvm:.0f} MB (JVM) ({args.repeat} runs, {args.master})"
        )


if __name__ == "__main__":
    main()
