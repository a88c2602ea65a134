"""The decision route's own floor: `POST /v1/decisions` with the decision replaced by a canned
one (API key check, body validation, response model, JSON), against the same wrk load as
run.py. What is left between this rate and a third of the bare endpoint's is what deciding and
durably committing a decision (with its audit entry) may cost.

    .venv/bin/python benchmarks/api/ceiling.py [--runs 3] [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def serve(db: Path, port: int, body: dict[str, str]) -> None:
    import run as bench
    import uvicorn

    from credo.api import ApiSettings, create_app
    from credo.api.service import Service
    from credo.policy.products import load_products
    from credo.rights.decisions import DecisionInput, decide_many
    from credo.settings import Settings
    from credo.store.db import Store

    with Store.open(Settings(db=db)) as store:
        ask = DecisionInput(bench.PARTNER, body["person"], body["product"], body["consent"])
        canned = decide_many(store, [ask], load_products("products"))[0]

    async def decide(self: Service, ask: Any) -> Any:
        return canned

    Service.decide = decide  # type: ignore[method-assign]
    app = create_app(Settings(db=db), ApiSettings(admin_token=bench.ADMIN, background_seconds=0))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), json.loads(args.serve[2]))
        return
    import httpx
    import run as bench

    setup = bench.fresh_db(bench.template(300), HERE / "data" / "ceiling", 64)
    script = bench.wrk_script(HERE / "data" / "ceiling" / "load.lua", setup.key, setup.bodies)
    port = bench._free_port()
    cmd = [sys.executable, __file__, "--serve", str(setup.db), str(port),
           json.dumps(setup.bodies[0])]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(bench.ROOT)})
    try:
        url = f"http://127.0.0.1:{port}/v1/decisions"
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-s", str(script), url], capture_output=True)
        rates = []
        for _ in range(args.runs):
            result = bench.run_wrk("ceiling", url, script, args.seconds, 8)
            rates.append(result)
            print(f"{result.rps:,.0f} req/s, p99 {result.p99_ms:.2f} ms, errors {result.errors}")
        rates.sort(key=lambda r: r.rps)
        mid = rates[len(rates) // 2]
        print(f"median: {mid.rps:,.0f} req/s, p99 {mid.p99_ms:.2f} ms")
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
