"""The retention engine's candidate scan: rows read and time, the full scan of every bill, loan,
rental and court record against the SQL pre-filter (adverse as loaded, or amended), and that
both give the same due items (decision 0647).

    PYTHONPATH=$PWD python benchmarks/retention/scan.py --dir /tmp/retention --people 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

import credo.scoring.retention as retention
from credo.ingest.batch import ingest_population
from credo.settings import Settings
from credo.sim import generate
from credo.store.db import Store
from credo.store.rows import rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="a work folder (kept)")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db = args.dir / "credo.duckdb"
    if not db.exists():
        generate(args.people, 24, 5, args.dir / "pop", dt.date(2026, 10, 31))
        with Store.open(Settings(db=db)) as store:
            ingest_population(store, args.dir / "pop", max_reject_rate=0.01)
    full = retention._CANDIDATES.split(" AND (")[0]
    prefiltered = retention._CANDIDATES
    with Store.open(Settings(db=db)) as store:
        for name, query in (("full scan", full), ("pre-filter", prefiltered)):
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                found = rows(store.con, query)
                times.append(time.perf_counter() - start)
            print(f"{name}: {len(found)} rows, median {statistics.median(times):.3f} s")
        far = dt.date(2040, 1, 1)
        due = sorted(i["event_id"] for i in retention.due_items(store, far))
        retention._CANDIDATES = full
        try:
            same = due == sorted(i["event_id"] for i in retention.due_items(store, far))
        finally:
            retention._CANDIDATES = prefiltered
        print(f"same {len(due)} due items as of {far}: {same}")


if __name__ == "__main__":
    main()
