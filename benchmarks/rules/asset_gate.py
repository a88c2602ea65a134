"""What the asset-data gate (RULES R-CRR-4, docs/decisions/0691) costs the monthly feature query.

A population is generated, loaded and linked from the generator's truth (no resolution: the
gate reads links, not how they were made); then the monthly features are computed step by step
as the run computes them, with ``withhold_assets`` off and on, alternating, and the medians of
wall and CPU seconds (the process's, DuckDB's threads included) are compared. Also how many
scored persons have asset rows (their features may differ) and whether everyone else's rows
are equal bit for bit. Run from the repository root:

    PYTHONPATH=$PWD python benchmarks/rules/asset_gate.py [--people 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from credo.features import PointInTime, feature_steps
from credo.ingest.batch import ingest_population
from credo.scoring.runner import stepwise
from credo.settings import Settings
from credo.sim import generate
from credo.store.db import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from scoring.truth import link_from_truth

END = dt.date(2026, 10, 31)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--people", type=int, default=20_000)
    args.add_argument("--months", type=int, default=24)
    args.add_argument("--rounds", type=int, default=7)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="asset-gate-") as tmp:
        root = Path(tmp)
        generate(opts.people, opts.months, 7, root / "pop", END)
        settings = Settings(db=root / "credo.duckdb")
        with Store.open(settings) as store:
            ingest_population(store, root / "pop", max_reject_rate=0.01)
            link_from_truth(store, root / "pop")
            store.con.execute("CHECKPOINT")
            events = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
            pit = PointInTime(END, dt.datetime(2030, 1, 1))
            times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
            rows: dict[bool, dict[str, tuple[object, ...]]] = {}
            for i in range(opts.rounds):
                for gate in (False, True) if i % 2 == 0 else (True, False):
                    wall, cpu = time.perf_counter(), _cpu()
                    with stepwise(store.con, feature_steps(pit, withhold_assets=gate)) as sql:
                        got = store.con.sql(sql).fetchall()
                    times[gate].append((time.perf_counter() - wall, _cpu() - cpu))
                    rows[gate] = {str(r[0]): tuple(r) for r in got}
            assets = {
                str(p)
                for (p,) in store.con.execute(
                    "SELECT DISTINCT p.person_id FROM events e JOIN event_persons p"
                    " ON p.event_id = e.event_id AND p.role = 'subject'"
                    " WHERE e.bill_kind = 'tax' OR e.attribute = 'vehicle'"
                ).fetchall()
            }
    scored = set(rows[False])
    others_equal = all(rows[False][p] == rows[True][p] for p in scored - assets)
    changed = sum(rows[False][p] != rows[True][p] for p in scored)
    med = {g: [statistics.median(t[k] for t in times[g]) for k in (0, 1)] for g in times}
    print(f"{opts.people} people, {opts.months} months: {events:,} events, {len(scored):,} scored,"
          f" {len(scored & assets):,} with asset rows, {changed:,} whose features changed;"
          f" everyone else equal: {others_equal}")  # fmt: skip
    for gate in (False, True):
        print(f"withhold_assets={gate}: wall {med[gate][0]:.3f} s, cpu {med[gate][1]:.3f} s")
    print(f"gated / ungated: wall {med[True][0] / med[False][0]:.3f}x,"
          f" cpu {med[True][1] / med[False][1]:.3f}x (medians of {opts.rounds})")  # fmt: skip


if __name__ == "__main__":
    main()
