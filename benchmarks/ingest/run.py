"""Loading 10 million payment rows: `credo ingest` beside DuckDB's own reader, in one run.

For each format (CSV, Parquet) and each repetition, both contenders load the same file into a
fresh database file in a child process: DuckDB's ``CREATE TABLE AS SELECT * FROM read_csv(...)``
(types sniffed, no validation) and ``credo ingest`` (mapping, validation, identifier hashing and
encryption, dedup, quarantine, audit). Wall time and the child's peak RSS are measured; medians
and the ratio are printed and written to ``out/results.json``.

The peak is the child's own ``VmHWM``, read from ``/proc/self/status`` as it exits: Linux carries
``ru_maxrss`` across ``exec``, so a child started by this process after it generated the data
reported this process's peak (every contender showed 2.05 GiB in an earlier run).

    .venv/bin/python benchmarks/ingest/run.py [--rows 10000000] [--repeat 3] [--formats parquet]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


# Run first in each child: at exit it writes its own peak RSS (VmHWM, kB) to $BENCH_HWM_FILE.
_HWM = (
    "import atexit, os, re, sys\n"
    "def _hwm():\n"
    "    status = open('/proc/self/status').read()\n"
    "    kb = re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)\n"
    "    open(os.environ['BENCH_HWM_FILE'], 'w').write(kb)\n"
    "atexit.register(_hwm)\n"
)


def _cpu_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run(cmd: list[str], env: dict[str, str], hwm: Path) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (GiB, the child's own VmHWM) and CPU seconds (user + system,
    all its threads) of one child process. On a shared machine the CPU seconds are the steadier
    measure: wall time also counts the time the child waited for a core."""
    hwm.unlink(missing_ok=True)
    cpu_before = _cpu_children()
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env={**env, "BENCH_HWM_FILE": str(hwm)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    cpu = _cpu_children() - cpu_before
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed: {stderr.decode()[-2000:]}")
    return seconds, int(hwm.read_text()) / 1024 / 1024, cpu


def duckdb_raw(path: Path, db: Path, fmt: str) -> list[str]:
    reader = "read_csv" if fmt == "csv" else "read_parquet"
    code = _HWM + (
        "import duckdb; c = duckdb.connect(sys.argv[1], config={'memory_limit': '3GB'}); "
        f"c.execute(\"CREATE TABLE t AS SELECT * FROM {reader}('{path}')\"); c.close()"
    )
    return [sys.executable, "-c", code, str(db)]


def credo_ingest(path: Path, db: Path, fmt: str) -> list[str]:
    """``credo ingest`` as ``python -m credo`` runs it, after the peak-RSS hook."""
    code = _HWM + "import runpy; runpy.run_module('credo', run_name='__main__', alter_sys=True)"
    return [sys.executable, "-c", code, "ingest", str(path), "--source", "bench_payments",
            "--mapping", str(HERE / "mapping.yaml"), "--db", str(db), "--json"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--formats", default="csv,parquet", help="comma-separated: csv, parquet (default both)"
    )
    args = parser.parse_args()
    wanted = args.formats.split(",")
    files = {f: p for f, p in make_data(args.rows).items() if f in wanted}
    if not files:
        raise SystemExit(f"--formats: none of {args.formats!r} is csv or parquet")
    work = OUT / "work"
    results: dict[str, dict[str, list[float]]] = {}
    env = {**os.environ}
    for rep in range(args.repeat):
        for fmt, path in files.items():
            for name, build in (("duckdb", duckdb_raw), ("credo", credo_ingest)):
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                seconds, rss, cpu = _run(build(path, work / "b.duckdb", fmt), env, work / "hwm")
                r = results.setdefault(f"{fmt}/{name}", {"seconds": [], "rss_gib": [], "cpu_s": []})
                r["seconds"].append(seconds)
                r["rss_gib"].append(rss)
                r["cpu_s"].append(cpu)
                print(f"rep {rep + 1} {fmt:7} {name:6} {seconds:7.2f} s {rss:5.2f} GiB "
                      f"{cpu:7.2f} CPU s", flush=True)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    summary = {}
    print(f"\n{args.rows:,} rows, medians of {args.repeat} runs")
    print("| format | loader | seconds | rows/s | peak RSS GiB | ratio to DuckDB "
          "| CPU s | CPU ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for fmt in files:
        base = statistics.median(results[f"{fmt}/duckdb"]["seconds"])
        base_cpu = statistics.median(results[f"{fmt}/duckdb"]["cpu_s"])
        for name in ("duckdb", "credo"):
            r = results[f"{fmt}/{name}"]
            sec = statistics.median(r["seconds"])
            cpu = statistics.median(r["cpu_s"])
            rss = max(r["rss_gib"])
            summary[f"{fmt}/{name}"] = {
                "seconds_median": sec, "rows_per_s": args.rows / sec, "peak_rss_gib": rss,
                "ratio": sec / base, "runs": r["seconds"], "cpu_s_median": cpu,
                "cpu_ratio": cpu / base_cpu, "cpu_runs": r["cpu_s"],
            }  # fmt: skip
            print(f"| {fmt} | {name} | {sec:.2f} | {args.rows / sec:,.0f} | {rss:.2f} | "
                  f"{sec / base:.2f}x | {cpu:.2f} | {cpu / base_cpu:.2f}x |")  # fmt: skip
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps({"rows": args.rows, **summary}, indent=2))


if __name__ == "__main__":
    main()
