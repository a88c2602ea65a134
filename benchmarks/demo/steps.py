"""Generation, ingest and resolution one at a time, each with its peak RSS and Python's share.

``run.py`` measures the demo as it runs; this script splits the three steps that grow with
persons so each can be measured at sizes the whole demo would take too long for, and says how
much of each peak is Python's own (``tracemalloc``, which does not see DuckDB or Arrow buffers).

    nice -n 10 .venv/bin/python benchmarks/demo/steps.py generate --people 30000 --dir D
    nice -n 10 .venv/bin/python benchmarks/demo/steps.py generate --people 1000000 \\
        --months 1 --dir D
    nice -n 10 .venv/bin/python benchmarks/demo/steps.py load --dir D
    nice -n 10 .venv/bin/python benchmarks/demo/steps.py resolve --dir D

``generate`` writes the demo's population (seed 7, ``DEMO_LINKS``, ``Arrivals()``; 60 months
unless ``--months``) to ``D/population``; ``load`` ingests it into ``D/credo.duckdb`` and
resolves it; ``resolve`` runs one more (full) resolution on ``D/credo.duckdb`` as it stands,
without ``tracemalloc`` (which slows Python's allocations and adds its own memory), so its peak
is the step's as the demo runs it; it also prints the RSS and the peak so far as each of its
phases (``PHASES``) starts and ends. One JSON line per step: seconds, peak RSS (reset before
the step, ``VmHWM``), Python's peak (not for ``resolve``), RSS after.
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
STARTED = time.perf_counter()
PEAK = [0.0]  # the highest VmHWM read before a phase reset it (``_phased``)


def _status(field: str) -> float:
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) * 1024 / GIB if found else 0.0


def step(name: str, fn: Callable[[], Any], trace: bool = True, **extra: Any) -> Any:
    """Run ``fn`` with its peaks measured (Python's own only if ``trace``); print them as one
    JSON line."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    PEAK[0] = 0.0
    result = fn()
    python_peak = tracemalloc.get_traced_memory()[1] / GIB if trace else None
    tracemalloc.stop()
    row = {
        "step": name,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_before_gib": round(before, 3),
        "peak_gib": round(max(_status("VmHWM"), PEAK[0]), 3),
        "python_peak_gib": None if python_peak is None else round(python_peak, 3),
        "rss_after_gib": round(_status("VmRSS"), 3),
    } | extra
    print(json.dumps(row), flush=True)
    return result


def generate(people: int, months: int, folder: Path, *, compress: bool = False) -> None:
    from credo.sim import Arrivals, generate
    from credo.sim.protected import DEMO_LINKS

    summary = step(
        "generate",
        lambda: generate(
            people,
            months,
            7,
            folder / "population",
            links=DEMO_LINKS,
            arrivals=Arrivals(),
            compress=compress,
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


PHASES = (
    "linkage_frame",  # before session 11; then linkage_table (decision 0119)
    "linkage_table",
    "predict_pairs",
    "cluster_and_review",
    "assign_ids",
    "write_run",
)


def _phased(module: Any, name: str) -> None:
    """Print the RSS, the step's peak so far and the size of the Arrow tables it is given (at
    its start) or gives (at its end) when ``module.name`` starts and ends; at its end, also
    the phase's own peak (``VmHWM`` is reset as it starts, and the step's peak kept)."""
    import pyarrow as pa

    fn = getattr(module, name)

    def show(at: str, tables: list[Any]) -> None:
        hwm = _status("VmHWM")
        PEAK[0] = max(PEAK[0], hwm)
        rss, peak = round(_status("VmRSS"), 3), round(PEAK[0], 3)
        arrow = round(sum(t.nbytes for t in tables if isinstance(t, pa.Table)) / GIB, 3)
        row = {"phase": name, "at": at, "rss_gib": rss, "peak_gib": peak, "arrow_gib": arrow,
               "t": round(time.perf_counter() - STARTED, 1)}  # fmt: skip
        if at == "end":
            row["phase_peak_gib"] = round(hwm, 3)
        print(json.dumps(row), flush=True)
        if at == "start":
            Path("/proc/self/clear_refs").write_text("5")

    def measured(*args: Any, **kwargs: Any) -> Any:
        show("start", [*args, *kwargs.values()])
        result = fn(*args, **kwargs)
        show("end", [result])
        return result

    setattr(module, name, measured)


def resolve_again(folder: Path) -> None:

    import credo.identity.resolution as resolution
    from credo.cli._common import settings_for
    from credo.identity import resolve
    from credo.store.db import Store

    for name in PHASES:
        if hasattr(resolution, name):  # the phases this tree's resolution has
            _phased(resolution, name)
    with Store.open(settings_for(folder / "credo.duckdb")) as store:
        report = step("resolve", lambda: resolve(store), trace=False)
    print(json.dumps(report.to_dict()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["generate", "load", "resolve"])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--compress", action="store_true", help="generate gzipped source files")
    args = parser.parse_args()
    if args.what == "generate":
        generate(args.people, args.months, args.dir, compress=args.compress)
    elif args.what == "load":
        load(args.dir)
    else:
        resolve_again(args.dir)


if __name__ == "__main__":
    main()
