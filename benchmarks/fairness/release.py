"""What a release's search for less discriminatory alternatives (RULES R-ECOA-6) adds to the
monthly run: a small bureau built here (generated, loaded, linked from the truth, protected
attributes loaded, trained and scored like the demo), then, interleaved ``--repeat`` times, a
monthly run that is not a release (the gate only) and the search alone, in wall and CPU
seconds; the ratio is the search's cost over the run's.

    nice -n 10 python benchmarks/fairness/release.py --people 2000 --repeat 3 --dir /tmp/x
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

import numpy as np

END = dt.date(2026, 10, 31)


def main() -> None:
    from scoring.truth import link_from_truth  # tests/scoring/truth.py (PYTHONPATH=tests)

    from credo.fairness.bureau import search_alternatives
    from credo.fairness.gate import product_cuts
    from credo.fairness.protected import load_protected
    from credo.ingest.batch import ingest_population
    from credo.policy.products import load_products
    from credo.policy.schema import load_policy
    from credo.scoring import run_demo_scoring
    from credo.scoring.monthly import score
    from credo.scoring.policy_rules import scoring_policy
    from credo.settings import Settings
    from credo.sim import generate
    from credo.sim.protected import DEMO_LINKS
    from credo.store.db import Store

    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    pop, db = args.dir / "pop", args.dir / "credo.duckdb"
    if not db.exists():
        generate(args.people, 30, 5, pop, END, links=DEMO_LINKS)
        with Store.open(Settings(db=db)) as store:
            ingest_population(store, pop, max_reject_rate=0.01)
            link_from_truth(store, pop)
            load_protected(store, pop / "protected" / "protected.csv")
            run_demo_scoring(store, months=2, override_why="benchmark")
    rules = scoring_policy(load_policy("zhima"))
    cuts = product_cuts(load_products())
    runs: list[tuple[float, float]] = []
    searches: list[tuple[float, float]] = []
    with Store.open(Settings(db=db)) as store:
        model_id = str(store.scalar("SELECT model_id FROM models ORDER BY seq DESC LIMIT 1"))
        scores = np.array([r[0] for r in store.con.execute(
            "SELECT score FROM score_snapshots WHERE run_id = (SELECT run_id FROM score_runs"
            " WHERE as_of = ? ORDER BY seq DESC LIMIT 1)", [END]).fetchall()])  # fmt: skip
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            score(store, END, override_why="benchmark")  # the release is recorded: gate only
            runs.append((time.perf_counter() - wall, time.process_time() - cpu))
            wall, cpu = time.perf_counter(), time.process_time()
            found = search_alternatives(store, model_id, rules, cuts, scores)
            searches.append((time.perf_counter() - wall, time.process_time() - cpu))
    run_wall, run_cpu = (statistics.median(x[i] for x in runs) for i in (0, 1))
    s_wall, s_cpu = (statistics.median(x[i] for x in searches) for i in (0, 1))
    print(f"{args.people} people; search on {found.get('rows')} of {found.get('of_rows')} rows,"
          f" {len(found.get('features', []))} features, month {found.get('month')},"
          f" {len(found.get('alternatives', []))} alternatives found")  # fmt: skip
    print(f"monthly run (not a release): wall {run_wall:.2f} s, CPU {run_cpu:.2f} s;"
          f" runs {[round(r[0], 2) for r in runs]}")  # fmt: skip
    print(
        f"search: wall {s_wall:.2f} s, CPU {s_cpu:.2f} s; runs {[round(r[0], 2) for r in searches]}"
    )
    print(f"a release run costs {1 + s_wall / run_wall:.2f}x a monthly run (wall),"
          f" {1 + s_cpu / run_cpu:.2f}x (CPU)")  # fmt: skip


if __name__ == "__main__":
    main()
