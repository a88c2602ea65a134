"""The threads behind the event loop, in process: the decision writer's and the journal
applier's CPU a decision, without HTTP.

As ``credo serve`` runs them: ``CachedReads`` loaded once, ``decide_many`` journaled in batches
of ``--batch`` (the writer thread's work: decide, chain the audit entries, encode and flush the
journal line), and the journal moved into DuckDB every ``--apply-every`` decisions (the applier
thread's work). The figures are thread CPU seconds (``time.thread_time``) a decision, which the
machine's load moves little, with an upper bound of the applier's GIL-holding part (all of
it but the inserts' ``execute``, which releases the GIL) and its longest in a single apply.
``--profile`` prints cProfile's top entries (thread CPU) for each.

    .venv/bin/python benchmarks/api/writer.py [--decisions 20000] [--repeat 3] [--batch 20]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (the API benchmark's population and grants)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--decisions", type=int, default=20_000, help="per run, each a new person")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--batch", type=int, default=20, help="the writer's batch (32 connections: ~20)"
    )
    ap.add_argument("--apply-every", type=int, default=2000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    from credo.policy.products import load_products
    from credo.rights.decisions import CachedReads, DecisionInput, decide_many
    from credo.settings import Settings
    from credo.store import db as store_db
    from credo.store.db import Store, load_journal_modules

    template = bench.template(args.persons)
    setup = bench.fresh_db(template, bench.DATA / "work-writer", args.decisions * args.repeat)
    asks = [
        DecisionInput(bench.PARTNER, b["person"], b["product"], b["consent"]) for b in setup.bodies
    ]
    # an upper bound of an apply's GIL-holding part: all of it but the inserts' execute
    in_duckdb = [0.0]
    insert = store_db._insert_arrow

    def timed_insert(con: object, table: str, rows: object) -> None:
        t = time.thread_time()
        arrow = store_db._arrow_rows(rows)  # type: ignore[arg-type]
        in_duckdb[0] -= time.thread_time() - t
        insert(con, table, rows)  # type: ignore[arg-type]
        in_duckdb[0] += time.thread_time() - t
        del arrow

    store_db._insert_arrow = timed_insert  # type: ignore[assignment]
    with Store.open(Settings(db=setup.db)) as store:
        products = load_products()
        reads = CachedReads(store)
        reads.warm()
        load_journal_modules()
        store.apply_journal()
        figures: dict[str, list[float]] = {"writer": [], "applier": [], "gil": [], "max": []}
        for r in range(args.repeat):
            mine = asks[r * args.decisions : (r + 1) * args.decisions]
            writer = applier = gil = longest = 0.0
            profiles = (
                (cProfile.Profile(time.thread_time), cProfile.Profile(time.thread_time))
                if args.profile
                else None
            )
            for i in range(0, len(mine), args.batch):
                t = time.thread_time()
                if profiles:
                    profiles[0].enable()
                decide_many(store, mine[i : i + args.batch], products, reads, journal=True)
                if profiles:
                    profiles[0].disable()
                writer += time.thread_time() - t
                if store.journaled >= args.apply_every or i + args.batch >= len(mine):
                    in_duckdb[0] = 0.0
                    t = time.thread_time()
                    if profiles:
                        profiles[1].enable()
                    store.apply_journal(store.con.cursor())
                    if profiles:
                        profiles[1].disable()
                    spent = time.thread_time() - t
                    applier += spent
                    gil += spent - in_duckdb[0]
                    longest = max(longest, spent - in_duckdb[0])
            n = len(mine) / 1e6
            for k, v in (("writer", writer / n), ("applier", applier / n), ("gil", gil / n),
                         ("max", longest * 1e3)):  # fmt: skip
                figures[k].append(v)
            print(f"run {r + 1}: {len(mine)} decisions; CPU µs a decision: writer"
                  f" {writer / n:.1f}, applier {applier / n:.1f} (holding the GIL at most"
                  f" {gil / n:.1f}); longest GIL-holding part of one apply {longest * 1e3:.1f} ms",
                  flush=True)  # fmt: skip
            if profiles:
                for name, prof in zip(("writer", "applier"), profiles, strict=True):
                    print(f"--- {name}")
                    pstats.Stats(prof).sort_stats("tottime").print_stats(18)
        med = {k: statistics.median(v) for k, v in figures.items()}
        print(f"medians of {args.repeat}: writer {med['writer']:.1f} µs a decision, applier"
              f" {med['applier']:.1f} (holding the GIL at most {med['gil']:.1f}), longest"
              f" GIL-holding apply {med['max']:.1f} ms (batches of {args.batch}, applies of"
              f" {args.apply_every})")  # fmt: skip


if __name__ == "__main__":
    main()
