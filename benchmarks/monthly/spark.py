"""The monthly run on DuckDB and on Spark (local[1], local[2]) over the same events, side by side.

The events are ``run.py``'s (generated with DuckDB SQL into a Credo database), exported as a
lake (``credo.spark.lake.export_lake``). DuckDB: :func:`credo.scoring.snapshots.compute_snapshots`
(the run's rows, not written). Spark: :func:`credo.spark.monthly.run_monthly` in a session
started beforehand (JVM start-up is not counted; the run's writing of its snapshots is). Medians
of ``--repeat`` runs, and events per second per core, are printed and written to
``out/spark-<events>.json``.

    .venv/bin/python benchmarks/monthly/spark.py --persons 10000 --events 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
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


def _median(name: str, run: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    """Each run's wall time is printed as it ends: a run cut short still leaves its figures."""
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        walls.append(time.perf_counter() - start)
        print(f"{name}: {walls[-1]:.1f} s", flush=True)
    return statistics.median(walls), walls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    db, lake_dir = OUT / "spark-bench.duckdb", OUT / "spark-lake"
    for path in (db, db.with_suffix(".key")):
        path.unlink(missing_ok=True)
    shutil.rmtree(lake_dir, ignore_errors=True)
    generate_db(db, args.persons, args.events)
    model_path = trained_model(OUT / "model.json")
    model = ScorecardModel.load(model_path)
    results: dict[str, object] = {"events": args.events, "persons": args.persons}
    with Store.open(Settings(db=db)) as store:
        export_lake(store, lake_dir, model=model_path, policy="zhima")
        loaded = resolve_policy("zhima")
        pit = PointInTime(AS_OF, latest_known_at(store))
        duck = partial(compute_snapshots, store, pit, model, loaded, previous=None)
        wall, walls = _median("duckdb", duck, args.repeat)
        results["duckdb"] = {"median_s": wall, "runs_s": walls}
    lake = Lake.open(lake_dir)
    from credo.spark.monthly import run_monthly
    from credo.spark.session import spark_session

    for cores in (1, 2):
        spark = spark_session(f"local[{cores}]", app="credo-bench")
        spark.sparkContext.setLogLevel("ERROR")
        try:
            run = partial(run_monthly, spark, lake, AS_OF)
            wall, walls = _median(f"spark local[{cores}]", run, args.repeat)
        finally:
            spark.stop()
        results[f"spark_local_{cores}"] = {
            "median_s": wall,
            "runs_s": walls,
            "events_per_s_per_core": args.events / wall / cores,
        }
    print(json.dumps(results, indent=2))
    (OUT / f"spark-{args.events}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
