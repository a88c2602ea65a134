"""``credo serve`` with probes: where the served decisions' tail comes from, measured inside.

Load on a shared machine moves wrk's latencies a lot; these figures move much less, because
they are the server's own CPU and its event loop's own stalls:

- **event-loop lag**: a coroutine sleeps 1 ms again and again and records how late it woke
  (its oversleep): while another thread holds the GIL, or a callback runs long, every request
  on the loop waits as long;
- **in-server latency** of each decision on the lean path (key, body, the writer's batch,
  answer), as the server sees it;
- per **writer batch** (``Service._decide_many``: decide, encode, journal flush) and per
  **journal apply** (``credo.store.db._apply``, with its Arrow conversion apart): size, wall
  time and the thread's CPU time (``time.thread_time``);
- each **garbage collection** (generation, duration);
- the CPU seconds of every thread of the process, by name (``/proc/self/task``).

``SIGUSR1`` writes what was recorded since the last one to ``--stats`` (JSON, replaced
atomically, with a sequence number) and starts afresh; ``run.py --probe`` sends it around each
wrk run and prints the figures.

    python benchmarks/api/probe.py --db DB --port PORT --stats FILE
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

LAG_SLEEP = 0.001


class Probe:
    def __init__(self, stats: Path) -> None:
        self.stats = stats
        self.seq = 0
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.lag_ms: list[float] = []
            self.stalls: list[tuple[float, float]] = []  # lag > 5 ms, other threads' CPU ms
            self.request_ms: list[float] = []
            self.batches: list[tuple[int, float, float]] = []  # size, wall ms, thread CPU ms
            self.applies: list[tuple[int, float, float, float]] = []  # + arrow CPU ms
            self.arrow_cpu = 0.0
            self.appends: list[tuple[float, float]] = []  # journal append: wall, CPU ms
            self.held: list[float] = []  # ms the service's lock was held by Service.run & co
            self.gcs: list[tuple[int, float]] = []
            self.cpu0 = thread_cpu()
            self.t0 = time.perf_counter()

    def dump(self) -> None:
        with self.lock:
            self.seq += 1
            data = {
                "seq": self.seq,
                "seconds": time.perf_counter() - self.t0,
                "lag_ms": self.lag_ms,
                "stalls": self.stalls,
                "request_ms": self.request_ms,
                "batches": self.batches,
                "applies": self.applies,
                "gcs": self.gcs,
                "appends": self.appends,
                "held": self.held,
                "gc_young": [len(gc.get_objects(g)) for g in (0, 1, 2)],
                "gc_frozen": gc.get_freeze_count(),
                "gc_old_types": _types(gc.get_objects(2)),
                "thread_cpu_s": {k: v - self.cpu0.get(k, 0.0) for k, v in thread_cpu().items()},
            }
        tmp = self.stats.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.stats)
        self.reset()

    async def lag(self) -> None:
        """Oversleep of 1 ms sleeps; for each over 5 ms, the CPU the process's other Python
        threads (the writer, the applier, workers) ran meanwhile: a stall they caused shows
        their CPU, one the machine's load caused (the loop waiting for a core) shows little."""
        clocks: list[int] = []
        refresh = 0.0
        while True:
            if time.monotonic() > refresh:
                main = threading.main_thread()
                clocks = [time.pthread_getcpuclockid(t.ident) for t in threading.enumerate()
                          if t is not main and t.ident is not None]  # fmt: skip
                refresh = time.monotonic() + 1
            before = _clock_sum(clocks)
            t = time.perf_counter()
            await asyncio.sleep(LAG_SLEEP)
            late = (time.perf_counter() - t - LAG_SLEEP) * 1e3
            self.lag_ms.append(late)
            if late > 5:
                self.stalls.append((late, (_clock_sum(clocks) - before) * 1e3))


def _clock_sum(clocks: list[int]) -> float:
    total = 0.0
    for clock in clocks:
        with contextlib.suppress(OSError):  # the thread ended
            total += time.clock_gettime(clock)
    return total


def _types(objects: list[Any], top: int = 8) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in objects:
        counts[type(o).__name__] = counts.get(type(o).__name__, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:top])


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process, by name (Python's name where it is a
    Python thread; unnamed native threads, DuckDB's, summed as ``native``)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        name = names.get(int(task.name), "native")
        if name.startswith("AnyIO") or name.startswith("asyncio"):
            name = "worker threads"
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def install(probe: Probe) -> None:
    """Wrap the writer's batch, the journal's apply and its Arrow conversion, the lean path."""
    from credo.api import lean, service
    from credo.store import db, journal

    def timed(record: Callable[[Any, float, float], None]) -> Callable[[Any], Any]:
        def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def inner(*args: Any, **kwargs: Any) -> Any:
                w, c = time.perf_counter(), time.thread_time()
                result = fn(*args, **kwargs)
                record(args, (time.perf_counter() - w) * 1e3, (time.thread_time() - c) * 1e3)
                return result

            return inner

        return wrap

    def batch(args: Any, wall: float, cpu: float) -> None:
        probe.batches.append((len(args[1]), wall, cpu))

    def applied(args: Any, wall: float, cpu: float) -> None:
        n = sum(len(b.audit) for b in args[1])
        probe.applies.append((n, wall, cpu, probe.arrow_cpu))
        probe.arrow_cpu = 0.0

    def arrow(args: Any, wall: float, cpu: float) -> None:
        probe.arrow_cpu += cpu

    def appended(args: Any, wall: float, cpu: float) -> None:
        probe.appends.append((wall, cpu))

    service.Service._decide_many = timed(batch)(service.Service._decide_many)  # type: ignore[method-assign]
    db._apply = timed(applied)(db._apply)
    db._arrow_rows = timed(arrow)(db._arrow_rows)
    journal.Journal.append = timed(appended)(journal.Journal.append)  # type: ignore[method-assign]

    decision = lean.CredoApp._decision

    async def timed_decision(self: Any, scope: Any, receive: Any, send: Any) -> None:
        t = time.perf_counter()
        await decision(self, scope, receive, send)
        probe.request_ms.append((time.perf_counter() - t) * 1e3)

    lean.CredoApp._decision = timed_decision  # type: ignore[method-assign]

    exclusive = service.Service.exclusive

    @contextlib.contextmanager
    def timed_exclusive(self: Any) -> Iterator[None]:
        with exclusive(self):
            t = time.perf_counter()
            try:
                yield
            finally:
                probe.held.append((time.perf_counter() - t) * 1e3)

    service.Service.exclusive = timed_exclusive  # type: ignore[method-assign]

    starts: dict[int, float] = {}

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            starts[info["generation"]] = time.perf_counter()
        else:
            t = starts.pop(info["generation"], None)
            if t is not None:
                probe.gcs.append((info["generation"], (time.perf_counter() - t) * 1e3))

    gc.callbacks.append(collected)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stats", type=Path, required=True)
    args = ap.parse_args()
    if os.environ.get("PROBE_GC_THRESHOLD"):  # diagnostic: other collector thresholds
        gc.set_threshold(*(int(x) for x in os.environ["PROBE_GC_THRESHOLD"].split(",")))
    if os.environ.get("PROBE_SWITCH_INTERVAL"):  # diagnostic: a shorter GIL switch interval
        import sys

        sys.setswitchinterval(float(os.environ["PROBE_SWITCH_INTERVAL"]))

    import uvicorn

    from credo.api.app import create_app
    from credo.api.protocol import CredoHttp
    from credo.api.settings import ApiSettings
    from credo.settings import Settings

    probe = Probe(args.stats)
    install(probe)
    app = create_app(Settings(db=args.db), ApiSettings(port=args.port))
    lifespan = app.router.lifespan_context

    @functools.wraps(lifespan)
    def probed(app_: Any) -> Any:
        class Ctx:
            async def __aenter__(self) -> None:
                self.inner = lifespan(app_)
                await self.inner.__aenter__()
                loop = asyncio.get_running_loop()
                loop.add_signal_handler(signal.SIGUSR1, probe.dump)
                self.task = loop.create_task(probe.lag())

            async def __aexit__(self, *exc: Any) -> Any:
                self.task.cancel()
                return await self.inner.__aexit__(*exc)

        return Ctx()

    app.router.lifespan_context = probed
    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, access_log=False,
                http=CredoHttp)  # fmt: skip


if __name__ == "__main__":
    main()


# --- the benchmark's side ------------------------------------------------------------------


def collect(pid: int, stats: Path, timeout: float = 10) -> dict[str, Any]:
    """Ask the probed server for what it recorded since the last call, and start afresh."""
    seq = json.loads(stats.read_text())["seq"] if stats.exists() else 0
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data: dict[str, Any] = json.loads(stats.read_text())
            if data["seq"] > seq:
                return data
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the probed server did not write {stats}")


def _q(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))]


def summary(data: dict[str, Any], requests: int) -> dict[str, float]:
    """The figures of one run: the loop's lag tail, the in-server latency, per-decision CPU of
    each thread, the writer's batches and the journal's applies."""
    lag, req = data["lag_ms"], data["request_ms"]
    batches, applies = data["batches"], data["applies"]
    decided = sum(b[0] for b in batches) or 1
    applied = sum(a[0] for a in applies) or 1
    per = 1e6 / max(requests, 1)  # CPU seconds -> µs a request
    cpu = data["thread_cpu_s"]
    out = {
        "lag_p50_ms": _q(lag, 0.5),
        "lag_p99_ms": _q(lag, 0.99),
        "lag_p999_ms": _q(lag, 0.999),
        "lag_max_ms": max(lag, default=float("nan")),
        "lag_over_5ms_per_s": sum(x > 5 for x in lag) / data["seconds"],
        "lag_over_5ms_ms_per_s": sum(x for x in lag if x > 5) / data["seconds"],
        "stall_others_cpu_ms_per_s": sum(min(a, b) for a, b in data["stalls"]) / data["seconds"],
        "server_p50_ms": _q(req, 0.5),
        "server_p99_ms": _q(req, 0.99),
        "batches_per_s": len(batches) / data["seconds"],
        "batch_mean": decided / max(len(batches), 1),
        "batch_p99": _q([b[0] for b in batches], 0.99),
        "batch_wall_p99_ms": _q([b[1] for b in batches], 0.99),
        "writer_busy": sum(b[1] for b in batches) / 1e3 / data["seconds"],
        "flush_wall_mean_ms": sum(a[0] for a in data["appends"]) / max(len(data["appends"]), 1),
        "flush_busy": sum(a[0] for a in data["appends"]) / 1e3 / data["seconds"],
        "writer_cpu_us": sum(b[2] for b in batches) * 1e3 / decided,
        "applies": len(applies),
        "apply_mean": applied / max(len(applies), 1),
        "apply_wall_max_ms": max((a[1] for a in applies), default=float("nan")),
        "apply_cpu_max_ms": max((a[2] for a in applies), default=float("nan")),
        "apply_cpu_us": sum(a[2] for a in applies) * 1e3 / applied,
        "arrow_cpu_us": sum(a[3] for a in applies) * 1e3 / applied,
        "held_n": len(data["held"]),
        "held_max_ms": max(data["held"], default=0.0),
        "held_ms_per_s": sum(data["held"]) / data["seconds"],
        "gc_full": sum(g[0] == 2 for g in data["gcs"]),
        "gc_max_ms": max((g[1] for g in data["gcs"]), default=0.0),
        "gc_full_max_ms": max((g[1] for g in data["gcs"] if g[0] == 2), default=0.0),
        "gc_young_max_ms": max((g[1] for g in data["gcs"] if g[0] < 2), default=0.0),
        "gc_ms_per_s": sum(g[1] for g in data["gcs"]) / data["seconds"],
    }
    for name, seconds in sorted(cpu.items()):
        out[f"cpu_us[{name}]"] = seconds * per
    return out
