"""The Spark monthly run's driver memory: its Python process's peak RSS, and where it was reached.

Starts a local session, runs :func:`credo.spark.monthly.run_monthly` on a lake, and samples the
driver's RSS every 0.2 s from a thread; prints the RSS after the session started, the peak
(``ru_maxrss``, this process being started by the shell, not forked from a big parent) and the
driver's Python stack when the sampled peak was reached. Run it with ``PYTHONPATH`` set to the
tree to measure (``git archive BASE | tar -x -C /tmp/before`` for the code before a change):

    PYTHONPATH=. .venv/bin/python benchmarks/monthly/spark_driver_rss.py LAKE [--master local[2]]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import threading
import time
import traceback
from pathlib import Path

from credo.spark.lake import Lake
from credo.spark.monthly import run_monthly
from credo.spark.session import spark_session


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lake", type=Path)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    args = parser.parse_args()
    spark = spark_session(args.master, app="credo-bench")
    spark.sparkContext.setLogLevel("ERROR")
    print(f"after the session started: {rss_mb():.0f} MB", flush=True)
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    peak: dict[str, object] = {"mb": 0.0, "at": 0.0, "stack": ""}
    done = threading.Event()
    start = time.perf_counter()

    def sample() -> None:
        while not done.is_set():
            now = rss_mb()
            if now > float(str(peak["mb"])) + 5:
                frames = sys._current_frames()[main_thread]
                peak.update(mb=now, at=time.perf_counter() - start)
                peak["stack"] = "".join(traceback.format_stack(frames)[-8:])
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    run = run_monthly(spark, Lake.open(args.lake), args.as_of)
    done.set()
    wall = time.perf_counter() - start
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"persons {run.meta['persons']}, {wall:.1f} s; driver peak RSS {maxrss:.0f} MB")
    print(f"sampled peak {peak['mb']:.0f} MB at {peak['at']:.1f} s, in:\n{peak['stack']}")
    spark.stop()


if __name__ == "__main__":
    main()
