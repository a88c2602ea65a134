"""Time ``credo fairness --as-of``'s audit on a demo database: the median of 5 in-process
``audit_month`` calls on the last scored month (issue 18: a 10k demo month in under 10 s).

    python benchmarks/fairness/month.py demo/credo.duckdb [YYYY-MM-DD]
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

from credo.fairness.bureau import audit_month
from credo.policy.products import load_products
from credo.settings import Settings
from credo.store.db import Store


def main() -> None:
    with Store.open(Settings(db=sys.argv[1])) as store:
        month = (
            dt.date.fromisoformat(sys.argv[2])
            if len(sys.argv) > 2
            else store.scalar("SELECT max(as_of) FROM score_runs WHERE kind = 'monthly'")
        )
        times = []
        for _ in range(5):
            began = time.perf_counter()
            report = audit_month(store, month, load_products())
            times.append(time.perf_counter() - began)
    print(
        f"{month}: {report.rows} persons, {len(report.flags)} flags; audit median"
        f" {statistics.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})"
    )


if __name__ == "__main__":
    main()
