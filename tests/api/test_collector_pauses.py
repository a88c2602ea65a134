"""What a server loads after it froze its start-up state (``gc.freeze``) stays for every full
collection to walk: a lazy import on the first journal move (pyarrow loading pandas, 335
modules) made each full collection pause every request in flight for 50-100 ms, the
decisions' p99 (decision 0612). Run in a fresh interpreter: the test process has long
imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

SERVE = """
import gc, json, sys, time
from pathlib import Path
from fastapi.testclient import TestClient
from api.conftest import api_settings, make_world, scored_persons
from credo.api import create_app
from credo.settings import Settings

db = Path(sys.argv[1])
person, other = scored_persons(db)
app = create_app(Settings(db=db), api_settings(journal_apply_seconds=0.05))
with TestClient(app) as client:
    world = make_world(client, person, other)
    consent = world.grant("rental")
    store = app.state.service.store
    loaded = set(sys.modules)
    gc.collect()
    before = len(gc.get_objects())
    body = {"person": person, "product": "bike_rental", "consent": consent}
    for _ in range(20):
        r = client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
        assert r.status_code == 200, r.text
    deadline = time.monotonic() + 20
    while store.journaled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not store.journaled, "the journal was not moved into the database"
    gc.collect()
    print(json.dumps({"modules": sorted(set(sys.modules) - loaded),
                      "unfrozen": len(gc.get_objects()) - before, "frozen": gc.get_freeze_count()}))
"""


def test_deciding_and_moving_the_journal_load_nothing_after_start(db: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(db)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["frozen"] > 100_000  # the start-up state was frozen
    assert found["modules"] == []
    # what decisions added for a full collection to walk
    assert found["unfrozen"] < 1_000, found["unfrozen"]  # 118 here; 4,497 with pandas loaded late
