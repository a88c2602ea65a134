"""How long a thread back from a blocking call waits for the GIL while another thread runs
Python: the decision writer back from the journal's ``fdatasync`` while the event loop is busy
(docs/decisions/0967). A busy thread spins; the main thread sleeps 4 ms (releasing the GIL, as
``fdatasync`` does) and records how late it runs again, at Python's 5 ms switch interval and at
the server's 1 ms.

    .venv/bin/python benchmarks/api/gil_wait.py [--sleeps 200]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time


def oversleep(interval: float, sleeps: int) -> list[float]:
    """Milliseconds late after each 4 ms sleep, beside a thread running Python."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            pass

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        late = []
        for _ in range(sleeps):
            t = time.perf_counter()
            time.sleep(0.004)
            late.append((time.perf_counter() - t - 0.004) * 1e3)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)
    return sorted(late)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sleeps", type=int, default=200)
    args = ap.parse_args()
    for interval in (0.005, 0.001):
        late = oversleep(interval, args.sleeps)
        print(f"switch interval {interval * 1e3:.0f} ms: late by p50 {late[len(late) // 2]:.2f}"
              f" ms, p90 {late[len(late) * 9 // 10]:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
