"""Generation, ingest and resolution one at a time, each with its peak RSS and Python's share.

``run.py`` measures the demo as it runs; this script splits the three steps that grow with
persons so each can be measured at sizes the whole demo would take too long for, and says how
much of each peak is Python's own (``tracemalloc``, which does not see DuckDB or Arrow buffers).

    nice -n 10 .venv/bin/python benchmarks/demo/steps.py generate --people 30000 --dir D
    nice -n 10 .venv/bin/python benchmarks/demo/steps.py generate --people 1000000 \\
        --months 1 --dir D
    nice -n 10 .venv/bin/python benchmarks/demo/steps.py load --dir D

``generate`` writes the demo's population (seed 7, ``DEMO_LINKS``, ``Arrivals()``; 60 months
unless ``--months``) to ``D/population``; ``load`` ingests it into ``D/credo.duckdb`` and
resolves it. One JSON line per step: seconds, peak RSS (reset before the step, ``VmHWM``),
Python's peak, RSS after.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
GIB = 1024**3


def _status(field: str) -> float:
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) * 1024 / GIB if found else 0.0


def step(name: str, fn: Callable[[], Any], **extra: Any) -> Any:
    """Run ``fn`` with its peaks measured; print them as one JSON line."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    result = fn()
    python_peak = tracemalloc.get_traced_memory()[1] / GIB
    tracemalloc.stop()
    row = {
        "step": name,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_before_gib": round(before, 3),
        "peak_gib": round(_status("VmHWM"), 3),
        "python_peak_gib": round(python_peak, 3),
        "rss_after_gib": round(_status("VmRSS"), 3),
    } | extra
    print(json.dumps(row), flush=True)
    return result


def generate(people: int, months: int, folder: Path) -> None:
    from credo.sim import Arrivals, generate
    from credo.sim.protected import DEMO_LINKS

    summary = step(
        "generate",
        lambda: generate(
            people, months, 7, folder / "population", links=DEMO_LINKS, arrivals=Arrivals()
        ),
        people=people,
        months=months,
    )
    print(json.dumps({"rows": summary.total_rows, "persons": summary.persons}))


def load(folder: Path) -> None:
    from credo.cli._common import settings_for
    from credo.identity import resolve
    from credo.identity.records import load_records
    from credo.ingest.batch import ingest_population
    from credo.store.db import Store

    with Store.open(settings_for(folder / "credo.duckdb"), create=True) as store:
        population = folder / "population"
        step("ingest", lambda: ingest_population(store, population, max_reject_rate=0.01))
        events = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        records = load_records(store.con)
        print(json.dumps({"events": events, "records": records.num_rows,
                          "records_arrow_gib": round(records.nbytes / GIB, 3)}))  # fmt: skip
        del records
        step("resolve", lambda: resolve(store))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["generate", "load"])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    if args.what == "generate":
        generate(args.people, args.months, args.dir)
    else:
        load(args.dir)


if __name__ == "__main__":
    main()
