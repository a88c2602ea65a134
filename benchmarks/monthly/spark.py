"""The monthly run on DuckDB and on Spark (local[1], local[2]) over the same events, side by side.

The events are ``run.py``'s (generated with DuckDB SQL into a Credo database), exported as a
lake (``credo.spark.lake.export_lake``). DuckDB: :func:`credo.scoring.snapshots.compute_snapshots`
(the run's rows, not written). Spark: :func:`credo.spark.monthly.run_monthly` in a session
started beforehand (JVM start-up is not counted; the run's writing of its snapshots is).

Each run reports its wall time and its CPU time: for DuckDB this process's (DuckDB's threads
run in it), for Spark this process's plus the JVM's (read from ``/proc``). On a shared box the
wall time measures the load as much as the engine; the CPU seconds a run consumed do not depend
on how long it waited for a core, so events per CPU-second is the rate the capacity plan
(docs/scale.md) scales from. Medians of ``--repeat`` runs, and the Spark run's time per step
(:func:`credo.spark.stepwise.spark_stepwise`, last run), are printed and written to
``out/spark-<events>.json``.

    .venv/bin/python benchmarks/monthly/spark.py --persons 10000 --events 1000000 --repeat 3
    .venv/bin/python benchmarks/monthly/spark.py --persons 100000 --events 10000000 --repeat 3 \
        --db /tmp/bench/bench.duckdb --lake /tmp/bench/lake   # reuse a generated database
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from run import AS_OF, OUT, generate_db, trained_model  # noqa: E402

from credo.features import PointInTime  # noqa: E402
from credo.models.table import ScorecardModel  # noqa: E402
from credo.scoring.policy_rules import resolve_policy  # noqa: E402
from credo.scoring.runs import latest_known_at  # noqa: E402
from credo.scoring.snapshots import compute_snapshots  # noqa: E402
from credo.settings import Settings  # noqa: E402
from credo.spark.lake import Lake, export_lake  # noqa: E402
from credo.store.db import Store  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """User plus system CPU seconds of a running process (fields 14 and 15 of its stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _with_jvm(pid: int) -> float:
    return _own_cpu() + _process_cpu(pid)


def _measure(
    name: str, run: Callable[[], object], repeat: int, cpu: Callable[[], float]
) -> dict[str, Any]:
    """Each run's wall and CPU time are printed as it ends: a run cut short leaves its figures."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), cpu()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - start_cpu)
        print(f"{name}: {walls[-1]:.1f} s wall, {cpus[-1]:.1f} CPU-s", flush=True)
    return {
        "median_s": statistics.median(walls),
        "runs_s": [round(w, 2) for w in walls],
        "median_cpu_s": statistics.median(cpus),
        "runs_cpu_s": [round(c, 2) for c in cpus],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, default=None, help="reuse run.py's database")
    parser.add_argument("--lake", type=Path, default=None, help="reuse its exported lake")
    parser.add_argument("--cores", default="1,2", help="Spark local[N] for each N (e.g. 2)")
    parser.add_argument("--no-duckdb", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    model_path = trained_model(OUT / "model.json")
    db, lake_dir = args.db or OUT / "spark-bench.duckdb", args.lake or OUT / "spark-lake"
    if args.db is None:
        for path in (db, db.with_suffix(".key")):
            path.unlink(missing_ok=True)
        generate_db(db, args.persons, args.events)
    results: dict[str, Any] = {"events": args.events, "persons": args.persons}
    with Store.open(Settings(db=db)) as store:
        if args.lake is None:
            shutil.rmtree(lake_dir, ignore_errors=True)
            export_lake(store, lake_dir, model=model_path, policy="zhima")
        results["events"] = store.scalar("SELECT count(*) FROM events")
        results["persons"] = store.scalar("SELECT count(*) FROM persons")
        if not args.no_duckdb:
            model = ScorecardModel.load(model_path)
            loaded = resolve_policy("zhima")
            pit = PointInTime(AS_OF, latest_known_at(store))
            duck = partial(compute_snapshots, store, pit, model, loaded, previous=None)
            results["duckdb"] = _measure("duckdb", duck, args.repeat, _own_cpu)
            results["duckdb"]["threads"] = store.scalar("SELECT current_setting('threads')")
    lake = Lake.open(lake_dir)
    from credo.spark import monthly
    from credo.spark.session import spark_session

    events = int(results["events"])
    for cores in (int(c) for c in args.cores.split(",")):
        spark = spark_session(f"local[{cores}]", app="credo-bench")
        spark.sparkContext.setLogLevel("ERROR")
        jvm = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())  # type: ignore[union-attr]
        steps: dict[str, float] = {}
        try:
            run = partial(monthly.run_monthly, spark, lake, AS_OF, timings=steps)
            cpu = partial(_with_jvm, jvm)
            result = _measure(f"spark local[{cores}]", run, args.repeat, cpu)
        finally:
            spark.stop()
        result["events_per_s_per_core"] = events / result["median_s"] / cores
        result["events_per_cpu_s"] = events / result["median_cpu_s"]
        result["steps_s"] = {k: round(v, 2) for k, v in steps.items()}
        results[f"spark_local_{cores}"] = result
    if "duckdb" in results:
        results["duckdb"]["events_per_cpu_s"] = events / results["duckdb"]["median_cpu_s"]
    results["finished"] = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    print(json.dumps(results, indent=2))
    (OUT / f"spark-{events}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
