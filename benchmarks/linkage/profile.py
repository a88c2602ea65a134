"""Time and peak memory of one ``resolve`` on a loaded store, per stage.

Copies a store that ``run.py`` generated and loaded (``out/scale/credo.duckdb``), clears its
identity tables (so the run is a first one: train, predict, cluster, write) and resolves it,
sampling the process's RSS every 50 ms (psutil) and reporting the peak within each stage.
``--incremental`` instead works on the copy left by a full run: it forgets the records whose id
starts below ``--forget-below`` (about 1.2% of them for ``03``), so they count as new, and runs
``resolve(incremental=True)``. Run each in its own process so that ``ru_maxrss`` is its own.

    benchmarks/linkage/.venv/bin/python benchmarks/linkage/profile.py
    benchmarks/linkage/.venv/bin/python benchmarks/linkage/profile.py --incremental
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import credo.identity.resolution as resolution  # noqa: E402
from credo.settings import Settings  # noqa: E402
from credo.store.db import Store  # noqa: E402

HERE = Path(__file__).resolve().parent
STAGES = ("load_records", "linkage_frame", "train_model", "predict_pairs",
          "cluster_and_review", "write_run")  # fmt: skip
IDENTITY_TABLES = ("identity_records", "identity_links", "identity_reviews", "identity_changes",
                   "identity_runs", "identity_models", "event_persons", "persons")  # fmt: skip


class Sampler:
    """The highest RSS seen since the last ``reset``, sampled on a daemon thread."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.05)

    def reset(self) -> None:
        self.peak = self.proc.memory_info().rss


def instrument(sampler: Sampler, stages: list[dict[str, Any]]) -> None:
    for name in STAGES:
        fn = getattr(resolution, name)

        @functools.wraps(fn)
        def timed(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
            sampler.reset()
            t0 = time.perf_counter()
            out = _fn(*args, **kwargs)
            stages.append({"stage": _name, "seconds": round(time.perf_counter() - t0, 1),
                           "peak_rss_gib": round(sampler.peak / 2**30, 2)})  # fmt: skip
            return out

        setattr(resolution, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE / "out" / "scale" / "credo.duckdb")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "profile" / "credo.duckdb")
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--forget-below", default="03")
    args = parser.parse_args()
    work: Path = args.work
    con_settings = Settings(db=work)
    if not args.incremental:
        work.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(args.source, work)
        shutil.copy(args.source.with_suffix(".key"), work.with_suffix(".key"))
        with Store.open(con_settings) as store:
            for table in IDENTITY_TABLES:
                store.con.execute(f"DELETE FROM {table}")
            store.con.execute("CHECKPOINT")
    sampler = Sampler()
    stages: list[dict[str, Any]] = []
    instrument(sampler, stages)
    with Store.open(con_settings) as store:
        forgotten = 0
        if args.incremental:
            forgotten = int(
                store.scalar(
                    "SELECT count(*) FROM identity_records WHERE record_id < ?",
                    [args.forget_below],
                )
            )
            store.con.execute(
                "DELETE FROM identity_records WHERE record_id < ?", [args.forget_below]
            )
        t0 = time.perf_counter()
        report = resolution.resolve(store, train=not args.incremental,
                                    incremental=args.incremental)  # fmt: skip
        seconds = time.perf_counter() - t0
    print(json.dumps({
        "mode": report.mode, "records": report.records, "new_records": report.new_records,
        "forgotten": forgotten, "scored_pairs": report.scored_pairs, "persons": report.persons,
        "merges": report.merges, "reviews_pending": report.reviews_pending,
        "seconds": round(seconds, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "stages": stages,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
