"""A large store for ``parity.py``: ``run.py``'s generated events, its trained points table
registered, and DuckDB monthly runs for the months before ``run.py``'s as-of date and for it.

``credo.sim`` holds each source in memory (about 11 GiB at 100k persons, decision 0961, and
hours on a shared 2-core box); ``run.py``'s generator writes events with DuckDB SQL in seconds,
so parity can be checked at 100k persons and beyond. What it makes: bills, payments, rentals,
contacts, registry attributes, loans and court listings over 24 months, every person enrolled;
no corrections or restrictions (the tests' 400-person population has those). Given a ``db``
that exists (a copy of a database ``spark.py --dir`` kept), it is used as it is.

    .venv/bin/python benchmarks/monthly/parity_store.py /tmp/p100k/credo.duckdb \\
        --persons 100000 --events 10000000 --months 2
    .venv/bin/python benchmarks/monthly/parity.py --db /tmp/p100k/credo.duckdb --months 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from run import AS_OF, OUT, generate_db, trained_model  # noqa: E402

from credo.models.table import ScorecardModel  # noqa: E402
from credo.scoring import score  # noqa: E402
from credo.scoring.policy_rules import resolve_policy  # noqa: E402
from credo.scoring.registry import register_model  # noqa: E402
from credo.scoring.runs import latest_known_at  # noqa: E402
from credo.settings import Settings  # noqa: E402
from credo.store.db import Store  # noqa: E402

POLICY = "zhima"


def _month_end(day: dt.date, back: int) -> dt.date:
    """The last day of the month ``back`` months before ``day``'s."""
    first = day.replace(day=1)
    for _ in range(back):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=2, help="monthly runs, ending at AS_OF")
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if not args.db.exists():  # else: a copy of run.py's or spark.py's kept database
        generate_db(args.db, args.persons, args.events)
    OUT.mkdir(exist_ok=True)
    model = ScorecardModel.load(trained_model(OUT / "model.json"))
    loaded = resolve_policy(POLICY)
    with Store.open(Settings(db=args.db)) as store:
        register_model(
            store,
            model,
            trained_as_of=dt.date(2025, 11, 30),
            known_at=latest_known_at(store),
            policy_name=loaded.name,
            policy_version=loaded.version,
            outcome="benchmarks/monthly/run.py trained_model",
        )
        for back in range(args.months - 1, -1, -1):
            as_of = _month_end(AS_OF, back)
            run = score(store, as_of, model.model_id, POLICY)
            print(
                f"{as_of}: DuckDB run {run.run_id}, {time.perf_counter() - start:.0f} s", flush=True
            )


if __name__ == "__main__":
    main()
