"""What the ASGI stack costs a decision, in process: CPU per ``POST /v1/decisions`` through the
app as ``credo serve`` runs it (the lean path, docs/decisions/0964) and through the full stack
(``CredoApp.stack``), with the decision replaced by a canned one, as ``ceiling.py`` does, so
what is measured is the event loop's share: key, body, stack, answer. No HTTP server and no
socket: the figure is process CPU seconds over ``--requests`` requests, so the machine's load
moves it little. A bare FastAPI endpoint (run.py's) is measured the same way beside them.

    .venv/bin/python benchmarks/api/stack.py [--requests 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (the API benchmark's population and its bare app)

Message = MutableMapping[str, Any]
App = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


async def _cpu_per_request(app: App, headers: list[tuple[bytes, bytes]], body: bytes,
                           n: int) -> float:  # fmt: skip
    """Process CPU microseconds per request over ``n`` requests, one at a time."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    status: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/decisions", "raw_path":
             b"/v1/decisions", "root_path": "", "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8650)}  # fmt: skip
    for _ in range(200):  # warm-up
        await app(dict(scope), receive, send)
    status.clear()
    t0 = time.process_time()
    for _ in range(n):
        await app(dict(scope), receive, send)
    cpu = time.process_time() - t0
    assert set(status) == {200}, set(status)
    return cpu / n * 1e6


async def _measure(args: argparse.Namespace) -> dict[str, list[float]]:
    from credo.api import ApiSettings, create_app
    from credo.api.service import Service
    from credo.rights.decisions import DecisionInput, decide_many
    from credo.settings import Settings

    setup = bench.fresh_db(bench.template(args.persons), bench.DATA / "stack", 64)
    ask = setup.bodies[0]
    api: dict[str, Any] = {"admin_token": bench.ADMIN, "background_seconds": 0}
    app = create_app(Settings(db=setup.db), ApiSettings(**api))
    headers = [(b"host", b"127.0.0.1:8650"), (b"content-type", b"application/json"),
               (b"authorization", f"Bearer {setup.key}".encode()),
               (b"content-length", str(len(json.dumps(ask))).encode())]  # fmt: skip
    body = json.dumps(ask).encode()
    bare = bench.bare_app()
    out: dict[str, list[float]] = {"bare": [], "lean": [], "full stack": []}
    async with app.router.lifespan_context(app):
        svc: Service = app.state.service
        with svc.exclusive():
            svc.store.apply_journal()
            one = DecisionInput(bench.PARTNER, ask["person"], ask["product"], ask["consent"])
            canned = decide_many(svc.store, [one], svc.products)[0]

        async def decide(_ask: Any) -> Any:
            return canned

        svc.decide = decide  # type: ignore[method-assign,assignment]
        svc.known_key(setup.key) or svc.authenticate(setup.key)
        apps: dict[str, App] = {"bare": bare, "lean": app, "full stack": app.stack}
        for _ in range(args.repeat):
            for name, target in apps.items():
                out[name].append(await _cpu_per_request(target, headers, body, args.requests))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=300, help="the population (built once)")
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out = asyncio.run(_measure(args))
    print(f"CPU µs a request, in process, medians of {args.repeat} x {args.requests:,}:")
    for name, runs in out.items():
        each = ", ".join(f"{r:.1f}" for r in runs)
        print(f"  {name:10} {statistics.median(runs):7.1f}  ({each})")


if __name__ == "__main__":
    main()
