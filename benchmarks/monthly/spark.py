"""The monthly run on DuckDB and on Spark (local[1], local[2]) over the same events, side by side.

The events are ``run.py``'s (generated with DuckDB SQL into a Credo database), exported as a
lake (``credo.spark.lake.export_lake``). DuckDB: :func:`credo.scoring.snapshots.compute_snapshots`
(the run's rows, not written). Spark: :func:`credo.spark.monthly.run_monthly` in a session
started beforehand (JVM start-up is not counted; the run's writing of its snapshots is). Medians
of ``--repeat`` runs, and events per second per core, are printed and written to
``out/spark-<events>.json``. Each Spark run's CPU seconds (the driver's, and the JVM's with
its Python workers', from ``/proc``) are recorded beside its wall time: on a shared box they
say what a run cost when the wall time says mostly how loaded the box was. ``--dir DIR``
keeps the database and the lake there and reuses them when present (generating 10M events
takes minutes).

    .venv/bin/python benchmarks/monthly/spark.py --persons 10000 --events 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from pathlib import Path

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


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants: the JVM, the Python daemon and the workers it forks."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                children.setdefault(int(_stat(entry.name)[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _jvm_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of the Spark JVM and its Python workers so far (with those
    already ended: ``cutime``, ``cstime``); 0 without one."""
    if pid is None:
        return 0.0
    ticks = 0
    for member in _tree(pid):
        with suppress(OSError):
            ticks += sum(int(f) for f in _stat(member)[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _median(
    name: str, run: Callable[[], object], repeat: int, jvm: int | None = None
) -> tuple[float, list[float], list[float]]:
    """Each run's wall time and CPU seconds are printed as it ends: a run cut short still
    leaves its figures."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, start = _jvm_cpu(jvm) + time.process_time(), time.perf_counter()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(_jvm_cpu(jvm) + time.process_time() - cpu)
        print(f"{name}: {walls[-1]:.1f} s, {cpus[-1]:.1f} CPU-s", flush=True)
    return statistics.median(walls), walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="keep (and reuse) the data here")
    parser.add_argument("--cores", default="1,2", help="Spark local[N] for each N, in order")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    keep = args.dir is not None
    folder = args.dir or OUT
    folder.mkdir(parents=True, exist_ok=True)
    db, lake_dir = folder / "spark-bench.duckdb", folder / "spark-lake"
    model_path = trained_model(OUT / "model.json")
    model = ScorecardModel.load(model_path)
    reuse = keep and db.exists() and (lake_dir / "manifest.json").exists()
    if not reuse:
        for path in (db, db.with_suffix(".key")):
            path.unlink(missing_ok=True)
        shutil.rmtree(lake_dir, ignore_errors=True)
        generate_db(db, args.persons, args.events)
    results: dict[str, object] = {"events": args.events, "persons": args.persons}
    with Store.open(Settings(db=db)) as store:
        if not reuse:
            export_lake(store, lake_dir, model=model_path, policy="zhima")
        loaded = resolve_policy("zhima")
        pit = PointInTime(AS_OF, latest_known_at(store))
        duck = partial(compute_snapshots, store, pit, model, loaded, previous=None)
        wall, walls, cpus = _median("duckdb", duck, args.repeat)
        results["duckdb"] = {"median_s": wall, "runs_s": walls, "cpu_s": cpus}
    lake = Lake.open(lake_dir)
    from credo.spark.monthly import run_monthly
    from credo.spark.session import spark_session

    for cores in (int(c) for c in args.cores.split(",")):
        spark = spark_session(f"local[{cores}]", app="credo-bench")
        spark.sparkContext.setLogLevel("ERROR")
        jvm = spark.sparkContext._gateway.proc.pid  # type: ignore[attr-defined]
        try:
            run = partial(run_monthly, spark, lake, AS_OF)
            wall, walls, cpus = _median(f"spark local[{cores}]", run, args.repeat, jvm)
        finally:
            spark.stop()
        results[f"spark_local_{cores}"] = {
            "median_s": wall,
            "runs_s": walls,
            "cpu_s": cpus,
            "events_per_s_per_core": args.events / wall / cores,
            "events_per_cpu_s": args.events / statistics.median(cpus),
        }
    print(json.dumps(results, indent=2))
    (OUT / f"spark-{args.events}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
