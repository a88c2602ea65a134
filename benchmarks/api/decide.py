"""Decisions in process, without HTTP: ``decide_many`` over persons never asked before.

The route's own cost, apart from the server and the machine's load on it: the server's reads
(``CachedReads``, loaded once as ``credo serve`` does) and its batches of 8, committed to the
database (not journaled), over ``--decisions`` persons in turn from the API benchmark's
population. Prints the load time and the time per decision, median of ``--repeat`` runs on
fresh persons.

    .venv/bin/python benchmarks/api/decide.py [--decisions 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
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
    ap.add_argument("--decisions", type=int, default=2000, help="per run, each a new person")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()

    from credo.policy.products import load_products
    from credo.rights.decisions import CachedReads, DecisionInput, decide_many
    from credo.settings import Settings
    from credo.store.db import Store

    template = bench.template(args.persons)
    setup = bench.fresh_db(template, bench.DATA / "work-decide", args.decisions * args.repeat)
    asks = [
        DecisionInput(bench.PARTNER, b["person"], b["product"], b["consent"]) for b in setup.bodies
    ]
    with Store.open(Settings(db=setup.db)) as store:
        products = load_products()
        reads = CachedReads(store)
        started = time.perf_counter()
        reads.warm()
        print(f"reads loaded for everyone in {time.perf_counter() - started:.2f} s")
        per: list[float] = []
        for r in range(args.repeat):
            mine = asks[r * args.decisions : (r + 1) * args.decisions]
            started = time.perf_counter()
            for i in range(0, len(mine), args.batch):
                decide_many(store, mine[i : i + args.batch], products, reads)
            per.append((time.perf_counter() - started) / len(mine) * 1000)
            print(f"run {r + 1}: {len(mine)} decisions, {per[-1]:.3f} ms a decision")
        print(f"median: {statistics.median(per):.3f} ms a decision ({len(asks)} distinct persons)")


if __name__ == "__main__":
    main()
