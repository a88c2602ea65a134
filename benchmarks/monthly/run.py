"""One monthly run over a large population beside a bare DuckDB GROUP BY person, in one run.

``credo.scoring.score`` for one as-of date (features point in time, points table, policy,
reasons, snapshot rows written) against the limit: a bare ``GROUP BY person_id`` aggregate over
the same ``events`` joined to ``event_persons``. Both run in a fresh child process on the same
database file with Credo's default store settings (DuckDB memory limit 3 GB, all cores); wall
time and the child's peak RSS are measured, medians of ``--repeat`` runs are printed and written
to ``out/results-<events>.json``.

Events are generated with DuckDB SQL straight into a Credo database (``Store.open``, then bulk
INSERTs into ``events``, ``persons``, ``event_persons``): a mix of bills, payments, rentals,
contacts, registry attributes, loans and court listings like the synthetic population's, spread
over 24 months, every person enrolled. The model is trained once on a small generated population
(``credo.sim``) and reused.

    .venv/bin/python benchmarks/monthly/run.py --persons 1000000 --events 100000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

HERE = Path(__file__).parent
OUT = HERE / "out"
AS_OF = dt.date(2026, 10, 31)

# Share of events by type (the rest are payments), close to credo.sim's population.
MIX = [
    ("bill", 0.40),
    ("rental", 0.085),
    ("connection", 0.07),
    ("attribute", 0.04),
    ("loan", 0.03),
    ("court_judgment", 0.0001),
]
CATEGORIES = (
    "['grocery','dining','transport','travel','utilities','online_shopping','luxury',"
    "'entertainment','health','education']"
)
ATTRIBUTES = "['verified_identity','education','address','tenure','employer','occupation']"
EDUCATION = "['junior_secondary','senior_secondary','vocational','bachelor','master']"


def _type_case() -> str:
    """event_type from a uniform draw u in [0, 1)."""
    parts, edge = [], 0.0
    for name, share in MIX:
        edge += share
        parts.append(f"WHEN u < {edge:.6f} THEN '{name}'")
    return "CASE " + " ".join(parts) + " ELSE 'payment' END"


def generate_db(db: Path, persons: int, events: int) -> None:
    """A Credo database with ``persons`` enrolled persons and ``events`` events about them."""
    from credo.settings import Settings
    from credo.store.audit import AuditEntry
    from credo.store.db import Store
    from credo.store.schema import EVENT_TABLES

    start = time.perf_counter()
    with Store.open(Settings(db=db)) as store:
        with store.write(AuditEntry("benchmark", "generate", details={"events": events})) as con:
            con.execute(
                "INSERT INTO persons SELECT 'P' || lpad(i::VARCHAR, 8, '0'),"
                " TIMESTAMP '2024-11-01', 'active' FROM range(?) t(i)",
                [persons],
            )
            # Event i is about person i % persons; its kind and values come from hashes of i,
            # so the file is the same on every run. Event ids 0..persons-1 are the enrolments.
            rest = events - persons
            # Generated wide, then moved into the per-type tables (migration 7).
            con.execute("CREATE TEMP TABLE gen AS SELECT * FROM events LIMIT 0")
            con.execute(
                f"""
                INSERT INTO gen (event_id, event_type, source, load_id, row_no, recorded_at,
                    source_record_id, occurred_at, amount, currency, merchant_category, channel,
                    bill_kind, due_date, paid_date, loan_event, account_id, days_past_due,
                    partner, item, returned_on_time, damage, unpaid_amount, court, case_number,
                    listed_on, judgment_status, attribute, attribute_value, connection_action,
                    consent_action)
                SELECT id, event_type, 'bench_' || event_type, 1, id,
                    TIMESTAMP '2026-11-01 06:00:00', 'R' || id::VARCHAR, occurred_at,
                    CASE WHEN event_type IN ('payment', 'bill', 'loan')
                        THEN (h % 500000 / 100.0)::DECIMAL(18,2) END,
                    CASE WHEN event_type = 'payment' THEN 'CNY' END,
                    CASE WHEN event_type = 'payment' THEN {CATEGORIES}[h % 10 + 1] END,
                    CASE WHEN event_type = 'payment' THEN 'qr' END,
                    CASE WHEN event_type = 'bill' THEN ['utility','phone','rent','tax'][h % 4 + 1]
                        END,
                    CASE WHEN event_type IN ('bill', 'loan') THEN occurred_at::DATE + 14 END,
                    CASE WHEN event_type = 'bill' AND h % 50 > 0
                        THEN occurred_at::DATE + (7 + h // 7 % 10)::INTEGER END,
                    CASE WHEN event_type = 'loan'
                        THEN ['instalment','instalment','instalment','opened','closed'][h % 5 + 1]
                        END,
                    CASE WHEN event_type = 'loan' THEN 'A' || (id % {persons})::VARCHAR END,
                    CASE WHEN event_type = 'loan' THEN (CASE WHEN h % 40 = 0 THEN h // 3 % 120
                        ELSE 0 END) END,
                    CASE WHEN event_type = 'rental' THEN 'bikes' END,
                    CASE WHEN event_type = 'rental' THEN 'bike' END,
                    CASE WHEN event_type = 'rental' THEN h % 20 > 0 END,
                    CASE WHEN event_type = 'rental' THEN h % 200 = 0 END,
                    CASE WHEN event_type = 'rental' THEN (CASE WHEN h % 300 = 0 THEN 50 ELSE 0
                        END)::DECIMAL(18,2) END,
                    CASE WHEN event_type = 'court_judgment' THEN 'court' END,
                    CASE WHEN event_type = 'court_judgment' THEN 'case' || id::VARCHAR END,
                    CASE WHEN event_type = 'court_judgment' THEN occurred_at::DATE END,
                    CASE WHEN event_type = 'court_judgment' THEN 'listed' END,
                    CASE WHEN event_type = 'attribute' THEN {ATTRIBUTES}[h % 6 + 1] END,
                    CASE WHEN event_type = 'attribute'
                        THEN CASE h % 6 WHEN 1 THEN {EDUCATION}[h // 6 % 5 + 1]
                            WHEN 3 THEN (h // 6 % 120)::VARCHAR ELSE 'x' END END,
                    CASE WHEN event_type = 'connection'
                        THEN CASE WHEN h % 10 = 0 THEN 'removed' ELSE 'added' END END,
                    NULL
                FROM (
                    SELECT id, h, {_type_case()} AS event_type,
                        TIMESTAMP '2024-11-01' + to_seconds(h % (730 * 86400)) AS occurred_at
                    FROM (
                        SELECT i + {persons} AS id, (hash(i) >> 1)::BIGINT AS h,
                            (hash(i * 7 + 1) % 1000000) / 1000000.0 AS u
                        FROM range({rest}) t(i)
                    )
                )
                """
            )
            con.execute(
                "INSERT INTO gen (event_id, event_type, source, load_id, row_no, recorded_at,"
                " source_record_id, occurred_at, consent_action)"
                " SELECT i, 'consent', 'bench_consent', 1, i, TIMESTAMP '2026-11-01 06:00:00',"
                " 'C' || i::VARCHAR,"
                " TIMESTAMP '2024-11-01' + to_seconds((hash(i) >> 1)::BIGINT % 31536000),"
                " 'enrol' FROM range(?) t(i)",
                [persons],
            )
            for etype, table in EVENT_TABLES.items():
                cols = ", ".join(r[0] for r in con.execute(f"DESCRIBE {table}").fetchall())
                con.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM gen WHERE event_type = ?",
                    [etype],
                )
            con.execute("DROP TABLE gen")
            con.execute(
                "INSERT INTO event_persons SELECT event_id, 'subject',"
                f" 'P' || lpad((event_id % {persons})::VARCHAR, 8, '0'),"
                " TIMESTAMP '2026-11-01 06:00:00' FROM events"
            )
            con.execute(
                "INSERT INTO event_persons SELECT event_id, 'counterpart',"
                f" 'P' || lpad(((hash(event_id) >> 1)::BIGINT % {persons})::VARCHAR, 8, '0'),"
                " TIMESTAMP '2026-11-01 06:00:00' FROM events WHERE event_type = 'connection'"
            )
        store.con.execute("CHECKPOINT")
    print(f"generated {events:,} events in {time.perf_counter() - start:.0f} s", flush=True)


def trained_model(path: Path) -> Path:
    """A points table trained on a small generated population (reused across runs)."""
    if path.exists():
        return path
    from scoring.truth import link_from_truth

    from credo.ingest.batch import ingest_population
    from credo.settings import Settings
    from credo.sim import generate
    from credo.store.db import Store

    pop = OUT / "train-pop"
    generate(2000, 24, 7, pop)
    db = OUT / "train.duckdb"
    db.unlink(missing_ok=True)
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, pop, max_reject_rate=0.01)
        link_from_truth(store, pop)
        from credo.scoring import train_model

        train_model(store, dt.date(2025, 11, 30), outcome_months=11).model.save(path)
    return path


def child(kind: str, db: Path, model: Path) -> None:
    """Runs in a fresh process: one contender, then prints wall seconds and peak RSS."""
    from credo.models.table import ScorecardModel
    from credo.scoring import score  # imports (about 2 s) are not part of either contender
    from credo.settings import Settings
    from credo.store.db import Store

    # The monthly run's per-step timings (credo.scoring.runner), on stderr.
    logging.basicConfig(level=logging.INFO, format="  %(message)s", stream=sys.stderr)
    with Store.open(Settings(db=db)) as store:
        start = time.perf_counter()
        cpu_start = time.process_time()
        if kind == "bare":
            rows = store.con.execute(
                "SELECT count(*), sum(n), sum(spend) FROM ("
                " SELECT s.person_id, count(*) AS n, sum(e.amount) AS spend,"
                "  max(e.occurred_at) AS last FROM events e"
                " JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'"
                " GROUP BY s.person_id)"
            ).fetchall()
            result: object = rows[0][0]
        else:
            run = score(store, AS_OF, ScorecardModel.load(model), "zhima")
            result = run.persons
        wall = time.perf_counter() - start
        # User + system seconds of all this process's threads: on a shared machine steadier
        # than wall time, which also counts the time spent waiting for a core.
        cpu = time.process_time() - cpu_start
    print(json.dumps({"kind": kind, "wall_s": wall, "cpu_s": cpu, "peak_bytes": _peak_rss(),
                      "rows": result}))  # fmt: skip


def _peak_rss() -> int:
    """This process's own peak RSS (``VmHWM``). ``ru_maxrss`` is not: Linux carries it across
    ``exec``, so a child forked from a parent that generated the data reported the parent's
    peak (the 7.26 GiB of both contenders in an earlier run)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(kind: str, db: Path, model: Path, profile: bool, steps: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind, "--db", str(db), "--model", str(model)]
    if profile and kind == "score":
        command[1:1] = ["-m", "cProfile", "-s", "cumulative"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    out = done.stdout
    if steps:
        print(done.stderr, end="")
    if profile and kind == "score":
        print("\n".join(out.splitlines()[:60]))
    line = next(x for x in out.splitlines() if x.startswith('{"kind"'))
    return json.loads(line)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the scoring run")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--steps", action="store_true", help="print the run's per-step timings")
    parser.add_argument("--child", choices=["bare", "score"])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.model)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    model = trained_model(OUT / "model.json")
    db = OUT / f"bench-{args.persons}-{args.events}.duckdb"
    if not db.exists():
        generate_db(db, args.persons, args.events)
    results: dict[str, list[dict[str, float]]] = {"bare": [], "score": []}
    for k in range(args.repeat):
        for kind in ("bare", "score"):
            r = measure(kind, db, model, args.profile and k == 0, args.steps)
            results[kind].append(r)
            print(
                f"{kind:5} {r['wall_s']:7.1f} s  {r['cpu_s']:7.1f} CPU s"
                f"  peak {r['peak_bytes'] / 2**30:5.2f} GiB"
                f"  rows {r['rows']}",
                flush=True,
            )
    summary = {
        "persons": args.persons,
        "events": args.events,
        "bare_s": statistics.median(r["wall_s"] for r in results["bare"]),
        "score_s": statistics.median(r["wall_s"] for r in results["score"]),
        "bare_cpu_s": statistics.median(r["cpu_s"] for r in results["bare"]),
        "score_cpu_s": statistics.median(r["cpu_s"] for r in results["score"]),
        "bare_peak_gib": max(r["peak_bytes"] for r in results["bare"]) / 2**30,
        "score_peak_gib": max(r["peak_bytes"] for r in results["score"]) / 2**30,
        "runs": results,
    }
    summary["ratio"] = summary["score_s"] / summary["bare_s"]
    summary["cpu_ratio"] = summary["score_cpu_s"] / summary["bare_cpu_s"]
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    (OUT / f"results-{args.events}.json").write_text(json.dumps(summary, indent=2) + "\n")
    if not args.keep:
        for suffix in (".duckdb", ".duckdb.wal", ".key"):
            Path(str(db).removesuffix(".duckdb") + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
