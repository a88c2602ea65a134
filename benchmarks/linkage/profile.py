"""Time and peak memory of one ``resolve`` on a loaded store, per stage.

Copies a store that ``run.py`` generated and loaded (``out/scale/credo.duckdb``), clears its
identity tables (so the run is a first one: train, predict, cluster, write) and resolves it,
sampling the process's RSS every 50 ms (psutil) and reporting the peak within each stage.
``--incremental`` instead copies the store, takes out the events of ``--share`` of its
source records (chosen by a digest of their origin, so by what the data says), resolves the
rest in full (``--base``, kept for later runs with ``--reuse-base``), loads the held events
again numbered after every stored event (as a later load numbers them) and profiles
``resolve(incremental=True)``: the 1% load of the issue's target. Run each in its own process
so that ``ru_maxrss`` is its own.

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
from credo.store.schema import hashes_as_numbers_sql  # noqa: E402

HERE = Path(__file__).resolve().parent
STAGES = ("candidates", "score_new_pairs", "keep_strongest", "universe", "load_records",
          "linkage_frame", "train_model", "predict_pairs", "cluster_and_review",
          "write_run")  # fmt: skip
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
        fn = getattr(resolution, name, None)
        if fn is None:  # a stage this version of the code does not have
            continue

        @functools.wraps(fn)
        def timed(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
            sampler.reset()
            t0, c0 = time.perf_counter(), time.process_time()
            out = _fn(*args, **kwargs)
            stages.append({"stage": _name, "seconds": round(time.perf_counter() - t0, 1),
                           "cpu_seconds": round(time.process_time() - c0, 1),
                           "peak_rss_gib": round(sampler.peak / 2**30, 2)})  # fmt: skip
            return out

        setattr(resolution, name, timed)


def hold_back(store: Store, share: float) -> dict[str, Any]:
    """Take out the events of ``share`` of the source records; the rows, per event table."""
    from credo.identity.records import event_record_key_sql
    from credo.store.schema import EVENT_TYPES, event_table, hashes_as_text_sql

    key = event_record_key_sql("e")
    store.con.execute(
        f"""CREATE TEMP TABLE held_rows AS
        WITH r AS (SELECT {key} AS k, min(source || '/' || source_record_id) AS origin
                   FROM events e WHERE e.name IS NOT NULL GROUP BY 1),
        c AS (SELECT k FROM r ORDER BY md5(origin) LIMIT (SELECT ceil(count(*) * {share}) FROM r))
        SELECT DISTINCT e.source, e.source_record_id FROM events e JOIN c ON c.k = {key}"""
    )
    held = {}
    for event_type in EVENT_TYPES:
        table = event_table(event_type)
        where = "(source, source_record_id) IN (SELECT source, source_record_id FROM held_rows)"
        held[table] = store.con.sql(
            f"SELECT * {hashes_as_text_sql(table)} FROM {table} WHERE {where}"
        ).to_arrow_table()
        store.con.execute(f"DELETE FROM {table} WHERE {where}")
    store.con.execute("DROP TABLE held_rows")
    return held


def put_back(store: Store, held: dict[str, Any]) -> None:
    """The held events loaded again, numbered after every stored event."""
    for table, rows in held.items():
        store.con.register("held_arrow", rows)
        base = int(store.scalar("SELECT coalesce(max(event_id), 0) FROM events"))
        store.con.execute(
            f"INSERT INTO {table} SELECT * REPLACE ({base} + row_number() OVER "
            f"(ORDER BY event_id) AS event_id) FROM (SELECT * {hashes_as_numbers_sql(table)}"
            " FROM held_arrow) h"
        )
        store.con.unregister("held_arrow")


def prepare_incremental(
    source: Path, work: Path, base: Path, share: float, reuse: bool, model: Path | None = None
) -> int:
    """``work``: ``source`` resolved without ``share`` of its records, whose events are then
    loaded again; how many events came back. ``base`` keeps the resolved store and the held
    events, so a rerun (``reuse``) skips the full run. ``model``: a saved linkage model the
    base run uses instead of training one (training is most of a 1M-record full run)."""
    import pyarrow.parquet as pq

    from credo.identity.linkage_model import LinkageModel

    held_dir = base.with_suffix(".held")
    if not reuse:
        base.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, base)
        shutil.copy(source.with_suffix(".key"), base.with_suffix(".key"))
        with Store.open(Settings(db=base)) as store:
            for table in IDENTITY_TABLES:
                store.con.execute(f"DELETE FROM {table}")
            held = hold_back(store, share)
            t0 = time.perf_counter()
            if model is None:
                report = resolution.resolve(store, train=True)
            else:
                report = resolution.resolve(store, model=LinkageModel.load(model))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            print(f"base: full run {time.perf_counter() - t0:.1f} s, {report.records} records, "
                  f"peak RSS {peak:.2f} GiB", file=sys.stderr, flush=True)  # fmt: skip
            store.con.execute("CHECKPOINT")
        held_dir.mkdir(exist_ok=True)
        for table, rows in held.items():
            pq.write_table(rows, held_dir / f"{table}.parquet")
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(base, work)
    shutil.copy(base.with_suffix(".key"), work.with_suffix(".key"))
    held = {p.stem: pq.read_table(p) for p in sorted(held_dir.glob("*.parquet"))}
    with Store.open(Settings(db=work)) as store:
        put_back(store, held)
        store.con.execute("CHECKPOINT")
    return sum(t.num_rows for t in held.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE / "out" / "scale" / "credo.duckdb")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "profile" / "credo.duckdb")
    parser.add_argument("--base", type=Path, default=HERE / "out" / "profile" / "base.duckdb")
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--reuse-base", action="store_true")
    parser.add_argument("--base-model", type=Path, help="saved model for the base run")
    args = parser.parse_args()
    work: Path = args.work
    con_settings = Settings(db=work)
    returned = 0
    if args.incremental:
        returned = prepare_incremental(
            args.source, work, args.base, args.share, args.reuse_base, args.base_model
        )
    else:
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
        t0, c0 = time.perf_counter(), time.process_time()
        report = resolution.resolve(store, train=not args.incremental,
                                    incremental=args.incremental)  # fmt: skip
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({
        "mode": report.mode, "full_because": report.full_because, "records": report.records,
        "new_records": report.new_records, "records_read": report.records_read,
        "events_returned": returned, "scored_pairs": report.scored_pairs,
        "persons": report.persons, "merges": report.merges,
        "reviews_pending": report.reviews_pending, "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "stages": stages,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
