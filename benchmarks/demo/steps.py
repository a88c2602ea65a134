"""Every step of ``credo demo`` one at a time, each in its own process, with its peak RSS.

``run.py`` measures the demo as it runs, in one process; this script runs each of its steps
on a folder ``D`` on its own, resumably, calling the same functions ``credo demo`` calls
(``credo.cli.demo._run``), so a run too long for one sitting (1,000,000 persons) can be split
across sessions, and each step's peak is its own. In order:

    S="nice -n 10 .venv/bin/python benchmarks/demo/steps.py"
    $S generate --people 1000000 --dir D   # 48 + 12 months, seed 7, as the demo
    $S compress --dir D                    # gzip its text files (or ``generate --compress``)
    $S ingest --dir D                      # ingest_population (or ``load``: ingest + resolve)
    $S resolve --dir D                     # resolve, with each phase's RSS and peak
    $S check --dir D                       # check_resolution against the generator's truth
    $S protected --dir D                   # load_protected (once: it adds rows each time)
    $S train --dir D                       # plan_demo + train_demo; writes D/steps/train.json
    $S monthly --dir D                     # every month-end not yet scored, in order
    $S monthly --only 0 --dir D            # or one: 0 is the first of the plan's runs
    $S rest --dir D                        # summary + explanation, fairness, status, partner

``generate`` writes the demo's population (seed 7, ``DEMO_LINKS``, ``Arrivals()``; 60 months
unless ``--months``) to ``D/population``, going on from the last whole source of a run
stopped part-way (decision 0992); ``ingest`` loads it into ``D/credo.duckdb`` (the key
is ``D/credo.key``, created if missing: copy the demo's there first to get its record ids,
decision 0213); ``load`` ingests and resolves; ``resolve`` runs a full resolution on the store
as it stands, without ``tracemalloc`` (which slows Python's allocations and adds its own
memory) unless ``--trace``, and prints the RSS and the peak so far as each of its phases
(``PHASES``) starts and ends (with ``--trace``, Python's own peak in each phase too).
``train`` refuses to train twice on ``D``; ``monthly`` scores the plan's month-ends
(``credo.scoring.demo.plan_demo``; ``--scored`` as the demo's ``--months``) with the model
``train`` registered, skipping those it has already scored, and refuses a month whose earlier
months are not scored yet (each run's trend reads the run before it). ``rest`` needs every
month scored. One JSON line per step: seconds, peak RSS (reset before the step, ``VmHWM``),
Python's peak (``--trace``, and always for ``generate`` and ``load``), RSS after.
``train --phases`` also prints the RSS and peak as each of ``TRAIN_PHASES`` starts and ends
(every date's training table, the fit, the anchor, the fit summary). RSS is the measure that
counts: ``tracemalloc`` misses arrays whose memory is Arrow's (a float column converted from
Arrow without a copy).
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
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from credo.scoring.train import TrainingResult
    from credo.store.db import Store

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
GIB = 1024**3
STARTED = time.perf_counter()
T = TypeVar("T")
PEAK = [0.0]  # the highest VmHWM read before a phase reset it (``_phased``)
PY_PEAK = [0.0]  # the highest tracemalloc peak read before a phase reset it (``_phased``)


def _status(field: str) -> float:
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) * 1024 / GIB if found else 0.0


def step(name: str, fn: Callable[[], T], trace: bool = True, **extra: Any) -> T:
    """Run ``fn`` with its peaks measured (Python's own only if ``trace``); print them as one
    JSON line."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    PEAK[0] = PY_PEAK[0] = 0.0
    result = fn()
    python_peak = max(tracemalloc.get_traced_memory()[1] / GIB, PY_PEAK[0]) if trace else None
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
            resume=True,  # a run stopped part-way goes on from its last whole source (0992)
        ),
        people=people,
        months=months,
    )
    print(json.dumps({"rows": summary.total_rows, "persons": summary.persons}))


def compress(folder: Path) -> None:
    """Gzip a population generated plain: at 1M persons its ~30 GB of text does not fit this
    machine's disk beside the store (decision 0123)."""
    from credo.sim import compress_population

    packed = step("compress", lambda: compress_population(folder / "population"), trace=False)
    print(json.dumps({"files": len(packed), "bytes": sum(p.stat().st_size for p in packed)}))


def load(folder: Path) -> None:
    from credo.cli._common import settings_for
    from credo.identity import resolve
    from credo.identity.records import load_records
    from credo.ingest.batch import ingest_population
    from credo.policy.bases import withheld_for
    from credo.store.db import Store

    with Store.open(settings_for(folder / "credo.duckdb"), create=True) as store:
        population = folder / "population"
        withheld = withheld_for(store.settings)
        step("ingest", lambda: ingest_population(store, population, max_reject_rate=0.01,
                                                 withheld=withheld))  # fmt: skip
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
    the phase's own peak (``VmHWM`` is reset as it starts, and the step's peak kept), and,
    while ``tracemalloc`` traces, Python's own peak in the phase (``python_phase_peak_gib``)."""
    import pyarrow as pa

    fn = getattr(module, name)

    def show(at: str, tables: list[Any]) -> None:
        hwm = _status("VmHWM")
        PEAK[0] = max(PEAK[0], hwm)
        rss, peak = round(_status("VmRSS"), 3), round(PEAK[0], 3)
        arrow = round(sum(t.nbytes for t in tables if isinstance(t, pa.Table)) / GIB, 3)
        row = {"phase": name, "at": at, "rss_gib": rss, "peak_gib": peak, "arrow_gib": arrow,
               "t": round(time.perf_counter() - STARTED, 1)}  # fmt: skip
        tracing = tracemalloc.is_tracing()
        python_now, python_peak = tracemalloc.get_traced_memory()
        PY_PEAK[0] = max(PY_PEAK[0], python_peak / GIB)
        if tracing:
            row["python_gib"] = round(python_now / GIB, 3)
        if at == "end":
            row["phase_peak_gib"] = round(hwm, 3)
            if tracing:
                row["python_phase_peak_gib"] = round(python_peak / GIB, 3)
        print(json.dumps(row), flush=True)
        if at == "start":
            Path("/proc/self/clear_refs").write_text("5")
            tracemalloc.reset_peak()

    def measured(*args: Any, **kwargs: Any) -> Any:
        show("start", [*args, *kwargs.values()])
        result = fn(*args, **kwargs)
        show("end", [result])
        return result

    setattr(module, name, measured)


def resolve_again(folder: Path, trace: bool = False) -> None:
    """A full resolution of the store as it stands, each phase measured (``_phased``);
    ``trace``: Python's own peak too, per phase and for the step (slower)."""

    import credo.identity.resolution as resolution
    from credo.cli._common import settings_for
    from credo.identity import resolve
    from credo.store.db import Store

    for name in PHASES:
        if hasattr(resolution, name):  # the phases this tree's resolution has
            _phased(resolution, name)
    with Store.open(settings_for(folder / "credo.duckdb")) as store:
        report = step("resolve", lambda: resolve(store), trace=trace)
    print(json.dumps(report.to_dict()))


def ingest(folder: Path, trace: bool) -> None:
    """``ingest_population`` alone, as the demo calls it."""
    from credo.cli._common import settings_for
    from credo.ingest.batch import ingest_population
    from credo.policy.bases import withheld_for
    from credo.store.db import Store

    settings = settings_for(folder / "credo.duckdb")
    with Store.open(settings, create=True) as store:
        withheld = withheld_for(settings)
        reports = step(
            "ingest",
            lambda: ingest_population(
                store, folder / "population", max_reject_rate=0.01, withheld=withheld
            ),
            trace=trace,
        )
        events = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    print(json.dumps({"events": events, "files": len(reports)}))


def _store(folder: Path) -> Store:
    from credo.cli._common import settings_for
    from credo.store.db import Store

    db = folder / "credo.duckdb"
    if not db.exists():
        raise SystemExit(f"no store at {db}: run generate and ingest (or load) first")
    return Store.open(settings_for(db))


def check(store: Store, folder: Path, scored: int, trace: bool) -> None:
    from credo.sim.truth import check_resolution

    truth = step("check", lambda: check_resolution(store.con, folder / "population"), trace)
    print(json.dumps(truth.to_dict()))


def protected(store: Store, folder: Path, scored: int, trace: bool) -> None:
    from credo.fairness.protected import load_protected

    path = folder / "population" / "protected" / "protected.csv"
    loaded = step("protected", lambda: load_protected(store, path), trace)
    print(json.dumps(loaded.to_dict(), default=str))


TRAINED = "steps/train.json"
TRAIN_PHASES = ("training_table", "_fitted", "calibrated", "_fit")
"""What ``train --phases`` shows: each date's table, the fit, the scale's anchor, the fit's
summary (with the holdout's tables)."""


def train(store: Store, folder: Path, scored: int, trace: bool, phases: bool = False) -> None:
    """Train and register the demo's scorecard; keep what ``rest`` reports of it."""
    import credo.scoring.train as training
    from credo.scoring.demo import plan_demo, train_demo

    kept = folder / TRAINED
    if kept.exists():
        raise SystemExit(f"already trained: {kept} (remove it to train again)")
    for name in TRAIN_PHASES if phases else ():
        _phased(training, name)
    plan = plan_demo(store, scored)
    trained = step("train", lambda: train_demo(store, plan), trace)
    kept.parent.mkdir(exist_ok=True)
    kept.write_text(json.dumps(trained.to_dict() | {"unavailable": trained.unavailable}))
    print(json.dumps({"model_id": trained.model.model_id, "rows": trained.rows,
                      "bad_rows": trained.bad_rows}))  # fmt: skip


def _trained(store: Store, folder: Path) -> TrainingResult:
    """The ``train`` step's result, its model read back from the store."""
    import datetime as dt

    from credo.scoring.registry import load_model
    from credo.scoring.train import TrainingResult

    kept = folder / TRAINED
    if not kept.exists():
        raise SystemExit(f"no {kept}: run the train step first")
    t = json.loads(kept.read_text())
    return TrainingResult(
        load_model(store, t["model_id"]),
        Path(t["path"]) if t["path"] else None,
        dt.date.fromisoformat(t["as_of"]),
        dt.datetime.fromisoformat(t["known_at"]),
        t["rows"],
        t["bad_rows"],
        t["unavailable"],
        [dt.date.fromisoformat(v) for v in t["vintages"]],
        t["fit"],
    )


RUNS = "steps/runs.json"


def _scored(folder: Path) -> dict[str, str]:
    """The month-ends ``monthly`` has scored on ``D`` (kept as it goes, so a store that already
    holds other runs, such as a copy of an older one, is not mistaken for done): month-end to
    run id."""
    kept = folder / RUNS
    found: dict[str, str] = json.loads(kept.read_text()) if kept.exists() else {}
    return found


def monthly(store: Store, folder: Path, scored: int, only: int | None, trace: bool) -> None:
    """Score the plan's month-ends in order (or run ``only``), as the demo does."""
    from credo.cli.demo import DEMO_OVERRIDE
    from credo.scoring.demo import plan_demo
    from credo.scoring.monthly import score

    plan = plan_demo(store, scored)
    trained = _trained(store, folder)
    done = _scored(folder)
    wanted = range(len(plan.runs)) if only is None else [only]
    if only is not None and not 0 <= only < len(plan.runs):
        raise SystemExit(f"--only {only}: the plan has runs 0 to {len(plan.runs) - 1}")
    for k in wanted:
        month = plan.runs[k].isoformat()
        if month in done:
            print(json.dumps({"step": "monthly", "run": k, "as_of": month, "done": True}))
            continue
        missing = [m.isoformat() for m in plan.runs[:k] if m.isoformat() not in done]
        if missing:
            raise SystemExit(f"run {k} ({month}) needs the earlier months scored: {missing}")
        run = step(
            "monthly",
            lambda m=plan.runs[k]: score(
                store, m, trained.model, plan.policy, override_why=DEMO_OVERRIDE
            ),
            trace,
            run=k,
            as_of=month,
        )
        done[month] = run.run_id
        (folder / RUNS).write_text(json.dumps(done))


def rest(store: Store, folder: Path, scored: int, trace: bool) -> None:
    """What the demo does after its monthly runs, a step each: the summary with its explained
    person, the fairness audits, the status, the partner (``--no-serve``: no login codes)."""
    from credo.cli.demo import _fairness
    from credo.dashboard.demo import demo_partner
    from credo.scoring.demo import plan_demo, summarise_demo
    from credo.store.status import status_data

    plan = plan_demo(store, scored)
    trained = _trained(store, folder)
    done = _scored(folder)
    missing = [m.isoformat() for m in plan.runs if m.isoformat() not in done]
    if missing:
        raise SystemExit(f"score every month first (monthly): {missing} not scored")
    runs = [(m, done[m.isoformat()]) for m in plan.runs]
    result = step("summary", lambda: summarise_demo(store, plan, trained, runs), trace)
    print(json.dumps({"bands": result.bands, "persons": result.persons,
                      "example": result.example.get("person_id")}))  # fmt: skip
    population = folder / "population"
    fair = step(
        "fairness",
        lambda: _fairness(store, population, result.months[-1], result.observed_month),
        trace,
    )
    print(json.dumps({"flags": fair["flags"], "lowest": fair["lowest"]}, default=str))
    step("status", lambda: status_data(store), trace)
    partner = step("partner", lambda: demo_partner(store), trace)
    print(json.dumps({"partner": partner.partner_id, "person": partner.person}))


STEPS = ("ingest", "resolve", "check", "protected", "train", "monthly", "rest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["generate", "compress", "load", *STEPS])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60, help="months generated")
    parser.add_argument("--scored", type=int, default=12, help="the demo's --months")
    parser.add_argument("--only", type=int, help="monthly: score only this run of the plan")
    parser.add_argument("--trace", action="store_true", help="Python's peak (slower)")
    parser.add_argument("--phases", action="store_true", help="train: RSS as each phase ends")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--compress", action="store_true", help="generate gzipped source files")
    args = parser.parse_args()
    if args.only is not None and args.what != "monthly":
        parser.error("--only is for monthly")
    if args.phases and args.what != "train":
        parser.error("--phases is for train")
    if args.what == "generate":
        generate(args.people, args.months, args.dir, compress=args.compress)
    elif args.what == "compress":
        compress(args.dir)
    elif args.what == "load":
        load(args.dir)
    elif args.what == "ingest":
        ingest(args.dir, args.trace)
    elif args.what == "resolve":
        resolve_again(args.dir, args.trace)
    else:
        with _store(args.dir) as store:
            if args.what == "monthly":
                monthly(store, args.dir, args.scored, args.only, args.trace)
            elif args.what == "train":
                train(store, args.dir, args.scored, args.trace, args.phases)
            else:
                {"check": check, "protected": protected, "rest": rest}[args.what](
                    store, args.dir, args.scored, args.trace
                )


if __name__ == "__main__":
    main()
