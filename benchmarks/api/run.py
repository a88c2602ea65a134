"""Serving: a bare FastAPI endpoint beside Credo's ``POST /v1/decisions``, then a crash test.

Both servers are one uvicorn worker on 127.0.0.1 in a child process, with the same uvicorn
settings (``uvicorn[standard]``: uvloop and httptools when installed; no access log, as
``credo serve`` runs by default). The bare app returns a small JSON from an ``async def``
endpoint; Credo runs as ``python -m credo serve`` on a copy of a scored population (100,000
persons, a year of history, built once under ``data/``), so each decision authenticates the API
key, checks consent and the freeze, reads the latest snapshot and open disputes, applies the
products policy and makes the decision, the inquiry and the audit entry durable (in the
decision journal, docs/decisions/0612) before it answers.
Every scored person grants the partner consent (``--consenting``, 100,000 by default); the
decisions take those persons in turn, each wrk run going on where the last stopped, so no
person is asked twice until all were (a bureau's traffic spreads over millions of persons: a
few dozen would measure a cache, not the route). The run prints how many distinct persons
its decisions were about, and the server's peak memory.

Load: ``wrk`` (one thread, ``--connections`` connections, ``--seconds`` per measurement after a
2-second warm-up, the same server process kept across repetitions) when it is installed,
else a bounded asyncio client (httpx). Repetitions alternate bare/credo so both see the same
background load; medians of requests/s, p50 and p99 and the ratio are printed and written to
``out/results.json``.

Crash test: decisions from 8 asyncio clients, ``SIGKILL`` of the server after
``--kill-after`` seconds, a restart on the same database and a few decisions more, a clean stop;
then every decision a client got a 2xx for must be stored, stored decisions must equal decision
audit entries, and the audit chain must verify.

    .venv/bin/python benchmarks/api/run.py [--repeat 3] [--seconds 10] [--connections 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import probe  # beside this file

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DATA = HERE / "data"
OUT = HERE / "out"
ADMIN = "bench-admin-token-" + "x" * 32
PRODUCT = "car_rental"  # purpose "rental", not restricted: every scored person gets an offer
PARTNER = "benchair"


# --- the servers ---------------------------------------------------------------------------


def bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/decisions")
    async def decide() -> dict[str, Any]:
        return {"outcome": "approved", "terms": {"deposit": 0}, "score": 700.0}

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    kind: str
    port: int
    proc: subprocess.Popen[bytes]
    stats: Path | None = None
    """Where a probed server (``probe.py``) writes what it recorded."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(
    kind: str, db: Path | None = None, timeout: float = 60, probe: Path | None = None
) -> Server:
    """A server in a child process; with ``probe`` (Credo only) through ``probe.py``, which
    writes its figures there."""
    port = _free_port()
    env = {**os.environ, "CREDO_API_ADMIN_TOKEN": ADMIN, "PYTHONPATH": str(ROOT)}
    if kind == "bare":
        cmd = [sys.executable, __file__, "--serve-bare", str(port)]
    elif probe is not None:
        probe.unlink(missing_ok=True)
        cmd = [sys.executable, str(HERE / "probe.py"), "--db", str(db), "--port", str(port),
               "--stats", str(probe)]  # fmt: skip
    else:
        cmd = [sys.executable, "-m", "credo", "serve", "--db", str(db), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(kind, port, proc, probe)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} server exited with {proc.returncode}")
        try:
            httpx.get(server.url + "/openapi.json", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    stop(server)
    raise RuntimeError(f"{kind} server did not start in {timeout} s")


def stop(server: Server, sig: int = signal.SIGTERM) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(sig)
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)


@contextmanager
def serving(kind: str, db: Path | None = None, probe: Path | None = None) -> Iterator[Server]:
    server = start(kind, db, probe=probe)
    try:
        yield server
    finally:
        stop(server)


# --- the population ------------------------------------------------------------------------


def template(persons: int) -> Path:
    """A scored population, built once and kept under ``data/``."""
    sys.path.insert(0, str(ROOT / "tests"))
    import datetime as dt

    from scoring.truth import link_from_truth

    from credo.features.pit import months_before
    from credo.ingest.batch import ingest_population
    from credo.scoring import score, train_model
    from credo.settings import Settings
    from credo.sim import generate
    from credo.store.db import Store

    db = DATA / f"template_{persons}_12m.duckdb"
    if db.exists():
        return db
    DATA.mkdir(parents=True, exist_ok=True)
    end = dt.date(2026, 10, 31)
    pop = DATA / f"pop_{persons}"
    shutil.rmtree(pop, ignore_errors=True)
    # A year of history, the model trained on its first half: what decisions read (the latest
    # snapshot, consents, freezes, disputes) does not depend on the history's length, and two
    # years of 100,000 persons would take the generator and the ingest far longer.
    generate(persons, 12, 5, pop, end)
    partial = db.with_suffix(".partial.duckdb")
    with Store.open(Settings(db=partial, key_file=db.with_suffix(".key"))) as store:
        ingest_population(store, pop, max_reject_rate=0.01)
        link_from_truth(store, pop)
        train_model(store, months_before(end, 6), outcome_months=6)
        score(store, end)
        store.con.execute("CHECKPOINT")
    partial.rename(db)
    return db


@dataclass
class Setup:
    db: Path
    key: str
    bodies: list[dict[str, str]]


def fresh_db(template_db: Path, workdir: Path, consenting: int) -> Setup:
    """A copy of the population with a partner, a decisions key and ``consenting`` grants."""
    from credo.access import create_key, create_partner
    from credo.settings import Settings
    from credo.store.db import Store

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "credo.duckdb"
    for suffix in (".duckdb", ".duckdb.wal", ".key", ".admin-token"):
        db.with_suffix(suffix).unlink(missing_ok=True)
    shutil.rmtree(db.with_suffix(".duckdb.journal"), ignore_errors=True)
    shutil.copy(template_db, db)
    shutil.copy(template_db.with_suffix(".key"), db.with_suffix(".key"))
    with Store.open(Settings(db=db)) as store:
        persons = [
            r[0]
            for r in store.con.execute(
                "SELECT DISTINCT person_id FROM score_snapshots ORDER BY person_id LIMIT ?",
                [consenting],
            ).fetchall()
        ]
        create_partner(store, PARTNER, "Bench Air")
        key = create_key(store, PARTNER, ["decisions"]).key
        assert key is not None
        consents = grant_all(store, persons)
        store.con.execute("CHECKPOINT")
    bodies = [
        {"person": p, "product": PRODUCT, "consent": c}
        for p, c in zip(persons, consents, strict=True)
    ]
    return Setup(db, key, bodies)


def grant_all(store: Any, persons: list[str]) -> list[str]:
    """Each person's grant to the partner (purpose rental), as ``record_consent`` writes it
    (a consent event with a subject link, and the person's audit entry), in one transaction:
    a hundred thousand grants one at a time would take minutes. Checked against
    ``active_consent`` for a few persons."""
    import datetime as dt

    from credo.rights.audited import SERVICE_LOAD_ID
    from credo.rights.consent import CONSENT_SOURCE, active_consent
    from credo.store.audit import AuditEntry
    from credo.store.db import new_id
    from credo.store.schema import event_table

    at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    refs = [new_id("consent") for _ in persons]
    entries = [
        AuditEntry(f"person:{p}", "consent.grant", f"person:{p}", "consent",
                   {"partner": PARTNER, "purpose": "rental", "consent_id": c})
        for p, c in zip(persons, refs, strict=True)
    ]  # fmt: skip
    with store.write_many(entries) as con:
        first = int(
            con.execute("SELECT coalesce(max(event_id), 0) + 1 FROM events").fetchall()[0][0]
        )
        ids = list(range(first, first + len(persons)))
        con.execute(
            f"INSERT INTO {event_table('consent')} (event_id, source, load_id, row_no,"
            " recorded_at, source_record_id, occurred_at, partner, consent_action, purpose)"
            " SELECT unnest(?), ?, ?, 0, ?, unnest(?), ?, ?, 'grant', 'rental'",
            [ids, CONSENT_SOURCE, SERVICE_LOAD_ID, at, refs, at, PARTNER],
        )
        con.execute(
            "INSERT INTO event_persons (event_id, role, person_id, linked_at)"
            " SELECT unnest(?), 'subject', unnest(?), ?",
            [ids, persons, at],
        )
    for i in (0, len(persons) // 2, len(persons) - 1):
        assert active_consent(store, persons[i], PARTNER, "rental") == refs[i]
    return refs


# --- load ----------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    client: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = float("nan")
    """The server process's CPU (all threads, user + system) per request, in µs."""
    loop_us: float = float("nan")
    """The server's main thread's (the event loop's) CPU per request, in µs."""
    probe: dict[str, float] = field(default_factory=dict)
    """A probed server's own figures for the run (``probe.summary``)."""


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNIT[unit]


def wrk_script(path: Path, key: str, bodies: list[dict[str, str]]) -> Path:
    items = ",\n".join(f"  [==[{json.dumps(b)}]==]" for b in bodies)
    path.write_text(
        f"""wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local bodies = {{
{items}
}}
local i = 0
init = function(args)
  i = tonumber(args[1]) or 0
end
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
"""
    )
    return path


def run_wrk(
    kind: str, url: str, script: Path, seconds: int, connections: int, start: int = 0
) -> Result:
    """One wrk run; its requests take the bodies in turn from ``start`` (each run goes on
    where the last stopped, so every decision is about another person until all had one)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
           url, "--", str(start)]  # fmt: skip
    text = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)
    dist = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", text, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if total is None or "50" not in dist or "99" not in dist:
        raise RuntimeError(f"cannot read wrk's output:\n{text}")
    secs = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in sock.groups()) if sock else 0
    )
    n = int(total.group(1))
    return Result(kind, "wrk", n, secs, n / secs, _ms(dist["50"]), _ms(dist["99"]), errors)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)  # decision ids answered with a 2xx
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    seconds: float = 0.0


async def load(
    url: str,
    key: str,
    bodies: list[dict[str, str]],
    *,
    requests: int,
    connections: int,
    max_seconds: float,
    stop_on_error: bool = False,
) -> Load:
    """At most ``requests`` decisions from ``connections`` clients, for at most ``max_seconds``."""
    out = Load()
    issued = 0
    deadline = time.monotonic() + max_seconds
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < requests and time.monotonic() < deadline:
            body = bodies[issued % len(bodies)]
            issued += 1
            t0 = time.perf_counter()
            try:
                r = await client.post("/v1/decisions", json=body, headers=headers)
            except httpx.TransportError:
                out.transport_errors += 1
                if stop_on_error:
                    return
                continue
            out.latencies.append(time.perf_counter() - t0)
            out.statuses[r.status_code] = out.statuses.get(r.status_code, 0) + 1
            if r.is_success and "decision_id" in r.text:
                out.acked.append(r.json()["decision_id"])

    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    out.seconds = time.perf_counter() - t0
    return out


def run_httpx(
    kind: str, url: str, key: str, bodies: list[dict[str, str]], requests: int, connections: int
) -> Result:
    res = asyncio.run(
        load(url, key, bodies, requests=requests, connections=connections, max_seconds=60)
    )
    lat = sorted(res.latencies)
    errors = res.transport_errors + sum(n for s, n in res.statuses.items() if s >= 300)
    return Result(
        kind,
        "httpx",
        len(lat),
        res.seconds,
        len(lat) / res.seconds,
        lat[len(lat) // 2] * 1e3,
        lat[int(len(lat) * 0.99)] * 1e3,
        errors,
    )


_SENT = {"bare": 0, "credo": 0}  # requests each server got so far: where the next run starts


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds of a process (all its threads), or of one of its threads."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    server: Server, setup: Setup, args: argparse.Namespace, script: Path | None, warm: bool
) -> Result:
    """One measurement, with the server's CPU per request (less load-sensitive than rates)."""
    url = server.url + "/v1/decisions"
    pid = server.proc.pid
    if script is not None:
        if warm:
            r = run_wrk(server.kind, url, script, 2, args.connections, _SENT[server.kind])
            _SENT[server.kind] += r.requests
        if server.stats is not None:
            probe.collect(pid, server.stats)  # from here on
        cpu, loop = cpu_seconds(pid), cpu_seconds(pid, pid)
        r = run_wrk(server.kind, url, script, args.seconds, args.connections, _SENT[server.kind])
        _SENT[server.kind] += r.requests
    else:
        if warm:
            run_httpx(server.kind, server.url, setup.key, setup.bodies, 500, args.connections)
        cpu, loop = cpu_seconds(pid), cpu_seconds(pid, pid)
        r = run_httpx(
            server.kind, server.url, setup.key, setup.bodies, args.requests, args.connections
        )
    r.cpu_us = (cpu_seconds(pid) - cpu) / r.requests * 1e6
    r.loop_us = (cpu_seconds(pid, pid) - loop) / r.requests * 1e6
    if server.stats is not None:
        r.probe = probe.summary(probe.collect(pid, server.stats), r.requests)
    return r


def server_memory(pid: int) -> float:
    """The server process's peak resident memory so far (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def touched(db: Path) -> int:
    """How many distinct persons the run's decisions were about (servers stopped)."""
    from credo.settings import Settings
    from credo.store.db import Store

    with Store.open(Settings(db=db), create=False) as store:
        return int(store.scalar("SELECT count(DISTINCT person_id) FROM decisions"))


# --- the crash test ------------------------------------------------------------------------


@dataclass
class CrashReport:
    acked_before_kill: int
    acked_after_restart: int
    transport_errors: int
    stored_decisions: int
    decision_audit_entries: int
    acked_missing: int
    chain_ok: bool
    chain_entries: int
    chain_problem: str | None

    @property
    def ok(self) -> bool:
        return (
            self.acked_missing == 0
            and self.stored_decisions == self.decision_audit_entries
            and self.chain_ok
        )


def crash_test(setup: Setup, kill_after: float, connections: int) -> CrashReport:
    from credo.settings import Settings
    from credo.store import audit
    from credo.store.db import Store

    server = start("credo", setup.db)

    async def killed_load() -> Load:
        loop = asyncio.get_running_loop()
        loop.call_later(kill_after, server.proc.send_signal, signal.SIGKILL)
        return await load(
            server.url,
            setup.key,
            setup.bodies,
            requests=200_000,
            connections=connections,
            max_seconds=kill_after + 10,
            stop_on_error=True,
        )

    try:
        before = asyncio.run(killed_load())
    finally:
        stop(server, signal.SIGKILL)
    with serving("credo", setup.db) as again:  # the restart replays DuckDB's WAL
        after = asyncio.run(
            load(again.url, setup.key, setup.bodies, requests=50, connections=2, max_seconds=30)
        )
    with Store.open(Settings(db=setup.db), create=False) as store:
        stored = {r[0] for r in store.con.execute("SELECT decision_id FROM decisions").fetchall()}
        entries = store.scalar("SELECT count(*) FROM audit_log WHERE action = 'decision'")
        chain = audit.verify(store.con)
    acked = set(before.acked) | set(after.acked)
    return CrashReport(
        acked_before_kill=len(before.acked),
        acked_after_restart=len(after.acked),
        transport_errors=before.transport_errors,
        stored_decisions=len(stored),
        decision_audit_entries=int(entries),
        acked_missing=len(acked - stored),
        chain_ok=chain.ok,
        chain_entries=chain.entries,
        chain_problem=chain.problem,
    )


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--consenting", type=int, default=100_000, help="persons decisions spread over")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10, help="wrk: seconds per measurement")
    ap.add_argument("--requests", type=int, default=5000, help="httpx: requests per measurement")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    ap.add_argument("--kill-after", type=float, default=3.0)
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-crash", action="store_true")
    ap.add_argument(
        "--probe", action="store_true", help="serve Credo through probe.py, print its figures"
    )
    ap.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_bare is not None:
        import uvicorn

        # served as `credo serve` serves: one worker, no access log (its default)
        uvicorn.run(bare_app(), host="127.0.0.1", port=args.serve_bare, workers=1, access_log=False)
        return 0

    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    OUT.mkdir(parents=True, exist_ok=True)
    work = DATA / "work"
    t0 = time.perf_counter()
    tpl = template(args.persons)
    print(f"population: {tpl} ({time.perf_counter() - t0:.1f} s)", flush=True)
    results: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k != "serve_bare"}}

    if not args.skip_load:
        setup = fresh_db(tpl, work / "load", args.consenting)
        script = wrk_script(OUT / "decisions.lua", setup.key, setup.bodies) if use_wrk else None
        runs: dict[str, list[Result]] = {"bare": [], "credo": []}
        load_before = os.getloadavg()[0]
        stats = OUT / "probe.json" if args.probe and script is not None else None
        with serving("bare") as bare, serving("credo", setup.db, stats) as credo:
            for i in range(args.repeat):
                for server in (bare, credo):
                    r = measure(server, setup, args, script, warm=i == 0)
                    runs[server.kind].append(r)
                    if server.kind == "credo":
                        rss = server_memory(credo.proc.pid)
                    print(
                        f"{r.kind:5} run {i + 1}: {r.requests} requests in {r.seconds:.1f} s,"
                        f" {r.rps:,.0f} req/s, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms,"
                        f" errors {r.errors}, server CPU {r.cpu_us:.0f} µs a request (event"
                        f" loop {r.loop_us:.0f})",
                        flush=True,
                    )
                    if r.probe:
                        print("      probe: " + ", ".join(
                            f"{k} {v:.3g}" for k, v in r.probe.items()), flush=True)  # fmt: skip
        med = {
            kind: {
                m: statistics.median(getattr(r, m) for r in rs)
                for m in ("rps", "p50_ms", "p99_ms", "cpu_us", "loop_us")
            }
            for kind, rs in runs.items()
        }
        ratio = med["credo"]["rps"] / med["bare"]["rps"]
        results["runs"] = {k: [asdict(r) for r in rs] for k, rs in runs.items()}
        results["medians"] = med
        results["ratio"] = ratio
        results["credo_server_vmhwm_mib"] = rss
        results["distinct_persons"] = touched(setup.db)
        results["load_average"] = [load_before, os.getloadavg()[0]]
        print(f"\nmedians of {args.repeat} ({'wrk' if use_wrk else 'httpx'}, "
              f"{args.connections} connections):")  # fmt: skip
        print("| endpoint | req/s | p50 ms | p99 ms | server CPU µs/req | event loop µs/req |\n"
              "|---|---:|---:|---:|---:|---:|")  # fmt: skip
        for kind, m in med.items():
            print(f"| {kind} | {m['rps']:,.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} |"
                  f" {m['cpu_us']:.0f} | {m['loop_us']:.0f} |")  # fmt: skip
        if stats is not None:
            probed = [r.probe for r in runs["credo"]]
            results["probe_medians"] = pm = {
                k: statistics.median(p.get(k, float("nan")) for p in probed) for k in probed[0]
            }
            print("probe, medians: " + ", ".join(f"{k} {v:.3g}" for k, v in pm.items()))
            last = json.loads(stats.read_text())
            print(f"probe, at the end: objects in generations 0-2 {last['gc_young']}, frozen"
                  f" {last['gc_frozen']:,}; generation 2 holds {last['gc_old_types']}")  # fmt: skip
        print(f"decisions / bare = {ratio:.2f}; distinct persons decided: "
              f"{results['distinct_persons']:,} of {len(setup.bodies):,} consenting; "
              f"credo server peak {rss:,.0f} MiB; load average {load_before:.1f} before,"
              f" {os.getloadavg()[0]:.1f} after", flush=True)  # fmt: skip

    if not args.skip_crash:
        setup = fresh_db(tpl, work / "crash", args.consenting)
        report = crash_test(setup, args.kill_after, args.connections)
        results["crash"] = {**asdict(report), "ok": report.ok}
        print(f"\ncrash test: {json.dumps(results['crash'], indent=1)}", flush=True)

    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    return 0 if results.get("crash", {}).get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
