"""DuckDB and Spark on one store's population: how many snapshots differ (the target: none).

The store is exported as a lake (``credo.spark.lake.export_lake``); for each of the last
``--months`` monthly as-of dates the store has runs for, DuckDB computes the run's rows
(:func:`credo.scoring.snapshots.compute_snapshots`, with the store's previous run, not written)
and Spark runs :func:`credo.spark.monthly.run_monthly` on the lake with the same watermark.
Every column of every person's snapshot is compared by its bits
(:func:`credo.spark.parity.compare_snapshots`; ``run_id`` aside, which Spark leaves for the
import to fill). Prints the counts, the first differences, and writes ``out/parity-<n>.json``;
exits 1 if any snapshot differs.

    credo demo --no-serve --dir /tmp/s15-demo            # the 10k demo population
    .venv/bin/python benchmarks/monthly/parity.py --db /tmp/s15-demo/credo.duckdb --months 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from credo.features import PointInTime  # noqa: E402
from credo.scoring.policy_rules import resolve_policy, scoring_policy  # noqa: E402
from credo.scoring.registry import load_model  # noqa: E402
from credo.scoring.runs import previous_run  # noqa: E402
from credo.scoring.snapshots import compute_snapshots  # noqa: E402
from credo.settings import Settings  # noqa: E402
from credo.spark.lake import Lake, export_lake  # noqa: E402
from credo.spark.parity import compare_snapshots  # noqa: E402
from credo.store.db import Store  # noqa: E402

OUT = Path(__file__).parent / "out"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True, help="a Credo store with monthly runs")
    parser.add_argument("--months", type=int, default=1, help="the last N months the store ran")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--policy", default=None, help="default: the store's runs' policy")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="credo-parity-", dir="/tmp"))
    lake_dir = tmp / "lake"
    results: dict[str, object] = {"db": str(args.db), "master": args.master, "months": []}
    try:
        with Store.open(Settings(db=args.db)) as store:
            policy = args.policy or store.scalar(
                "SELECT policy_name FROM score_runs WHERE kind = 'monthly' ORDER BY seq DESC"
                " LIMIT 1"
            )
            months: list[dt.date] = [
                r[0]
                for r in store.con.execute(
                    "SELECT DISTINCT as_of FROM score_runs WHERE kind = 'monthly'"
                    " AND policy_name = ? ORDER BY as_of DESC LIMIT ?",
                    [policy, args.months],
                ).fetchall()
            ]
            manifest = export_lake(store, lake_dir, policy=str(policy))
            loaded = resolve_policy(str(policy))
            model = load_model(store, manifest.model_id)
            retention = scoring_policy(loaded).retention_years
            duck = {}
            for as_of in months:
                pit = PointInTime(as_of, manifest.known_at, retention)
                previous = previous_run(store, as_of, loaded.name)
                start = time.perf_counter()
                duck[as_of] = compute_snapshots(store, pit, model, loaded, previous=previous)
                print(f"{as_of} duckdb: {time.perf_counter() - start:.1f} s", flush=True)
        lake = Lake.open(lake_dir)
        from credo.spark.monthly import run_monthly
        from credo.spark.session import spark_session

        spark = spark_session(args.master, app="credo-parity")
        spark.sparkContext.setLogLevel("ERROR")
        unequal_total = 0
        try:
            for as_of in months:
                start = time.perf_counter()
                run = run_monthly(spark, lake, as_of)
                wall = time.perf_counter() - start
                from credo.spark.lake import read_snapshots

                theirs = read_snapshots(run.folder / "snapshots")
                diffs = compare_snapshots(duck[as_of], theirs, ignore=("run_id",))
                unequal = len({d.person_id for d in diffs})
                unequal_total += unequal
                by_column: dict[str, int] = {}
                for d in diffs:
                    by_column[d.column] = by_column.get(d.column, 0) + 1
                print(
                    f"{as_of} spark {args.master}: {wall:.1f} s; persons {duck[as_of].num_rows}"
                    f" (duckdb) {theirs.num_rows} (spark); unequal snapshots {unequal}",
                    flush=True,
                )
                for d in diffs[:10]:
                    print(f"  {d.person_id} {d.column}: duckdb {d.left!r} spark {d.right!r}")
                results["months"].append(  # type: ignore[attr-defined]
                    {
                        "as_of": as_of.isoformat(),
                        "persons": duck[as_of].num_rows,
                        "spark_persons": theirs.num_rows,
                        "unequal_snapshots": unequal,
                        "unequal_by_column": by_column,
                        "spark_s": round(wall, 1),
                    }
                )
        finally:
            spark.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["unequal_snapshots"] = unequal_total
    results["finished"] = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    OUT.mkdir(exist_ok=True)
    persons = max((m["persons"] for m in results["months"]), default=0)  # type: ignore[attr-defined]
    (OUT / f"parity-{persons}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"unequal snapshots in all: {unequal_total}")
    return 1 if unequal_total else 0


if __name__ == "__main__":
    raise SystemExit(main())
