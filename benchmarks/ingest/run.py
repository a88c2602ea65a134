"""Loading 10 million payment rows: `credo ingest` beside DuckDB's own reader, in one run.

For each format (CSV, Parquet) and each repetition, both contenders load the same file into a
fresh database file in a child process: DuckDB's ``CREATE TABLE AS SELECT * FROM read_csv(...)``
(types sniffed, no validation) and ``credo ingest`` (mapping, validation, identifier hashing and
encryption, dedup, quarantine, audit). Wall time and the child's peak RSS are measured; medians
and the ratio are printed and written to ``out/results.json``.

    .venv/bin/python benchmarks/ingest/run.py [--rows 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).parent
DATA = HERE / "data"
OUT = HERE / "out"
CATEGORIES = "['grocery','dining','transport','travel','utilities','online_shopping','other']"
CHANNELS = "['online','in_store','qr','transfer','card']"


def make_data(rows: int) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    csv, parquet = DATA / f"payments_{rows}.csv", DATA / f"payments_{rows}.parquet"
    if not csv.exists() or not parquet.exists():
        users = max(rows // 20, 1)
        con = duckdb.connect()
        con.execute(
            f"""CREATE TABLE p AS SELECT
                'T' || lpad(i::VARCHAR, 10, '0') AS txn_id,
                strftime(TIMESTAMP '2024-01-01' + to_seconds((i * 7919) % 86400000),
                    '%Y-%m-%d %H:%M:%S') AS txn_time,
                ((i * 104729) % 500000 + 100)::VARCHAR AS amount_fen,
                'CNY' AS currency,
                {CATEGORIES}[(i % 7) + 1] AS category,
                {CHANNELS}[(i % 5) + 1] AS channel,
                'U' || (i % {users}) AS user_id,
                '1' || (3 + (i % {users}) % 7)::VARCHAR
                    || lpad(((i % {users}) * 7)::VARCHAR, 9, '0') AS mobile,
                ['张','王','李','赵','陈'][(i % 5) + 1]
                    || ['伟','芳','娜','敏','静','强'][(i % 6) + 1] AS user_name
            FROM range({rows}) t(i)"""
        )
        con.execute(f"COPY p TO '{csv}' (HEADER)")
        con.execute(f"COPY p TO '{parquet}' (FORMAT parquet)")
        con.close()
    return {"csv": csv, "parquet": parquet}


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        assert proc.stderr is not None
        raise SystemExit(f"{cmd[:4]} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024 / 1024


def duckdb_raw(path: Path, db: Path, fmt: str) -> list[str]:
    reader = "read_csv" if fmt == "csv" else "read_parquet"
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], config={'memory_limit': '3GB'}); "
        f"c.execute(\"CREATE TABLE t AS SELECT * FROM {reader}('{path}')\"); c.close()"
    )
    return [sys.executable, "-c", code, str(db)]


def credo_ingest(path: Path, db: Path, fmt: str) -> list[str]:
    return [sys.executable, "-m", "credo", "ingest", str(path), "--source", "bench_payments",
            "--mapping", str(HERE / "mapping.yaml"), "--db", str(db), "--json"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = make_data(args.rows)
    work = OUT / "work"
    results: dict[str, dict[str, list[float]]] = {}
    env = {**os.environ}
    for rep in range(args.repeat):
        for fmt, path in files.items():
            for name, build in (("duckdb", duckdb_raw), ("credo", credo_ingest)):
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                seconds, rss = _run(build(path, work / "b.duckdb", fmt), env)
                r = results.setdefault(f"{fmt}/{name}", {"seconds": [], "rss_gib": []})
                r["seconds"].append(seconds)
                r["rss_gib"].append(rss)
                print(f"rep {rep + 1} {fmt:7} {name:6} {seconds:7.2f} s {rss:5.2f} GiB", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    summary = {}
    print(f"\n{args.rows:,} rows, medians of {args.repeat} runs")
    print("| format | loader | seconds | rows/s | peak RSS GiB | ratio to DuckDB |")
    print("|---|---|---|---|---|---|")
    for fmt in files:
        base = statistics.median(results[f"{fmt}/duckdb"]["seconds"])
        for name in ("duckdb", "credo"):
            r = results[f"{fmt}/{name}"]
            sec = statistics.median(r["seconds"])
            rss = max(r["rss_gib"])
            summary[f"{fmt}/{name}"] = {
                "seconds_median": sec, "rows_per_s": args.rows / sec, "peak_rss_gib": rss,
                "ratio": sec / base, "runs": r["seconds"],
            }  # fmt: skip
            print(f"| {fmt} | {name} | {sec:.2f} | {args.rows / sec:,.0f} | {rss:.2f} | "
                  f"{sec / base:.2f}x |")  # fmt: skip
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps({"rows": args.rows, **summary}, indent=2))


if __name__ == "__main__":
    main()
