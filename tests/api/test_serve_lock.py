"""While ``credo serve`` holds the database, the read-only commands and ``credo partners`` go
through its API; a command that writes otherwise is refused with a message naming the server,
and the file is left whole (a real server process, DuckDB's real lock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from credo.client import PartnerClient
from credo.settings import Settings
from credo.store import audit
from credo.store.db import Store, serving_marker
from credo.store.status import status_data

from .conftest import ADMIN, scored_persons
from .test_crash import server

pytestmark = pytest.mark.slow


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "credo", *args], capture_output=True, text=True, timeout=60
    )


def test_a_writing_command_names_the_running_server(db: Path) -> None:
    with server(db) as (url, proc):
        refused = _cli("disputes", "expire", "--db", str(db))
        marker = serving_marker(db).read_text()
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert f"'credo serve' (process {proc.pid}, {url})" in " ".join(text.split()), text
    assert "/admin" in text and str(proc.pid) in marker
    # The server was killed (SIGKILL), leaving its marker: the file is whole, the stale marker
    # names nobody, and the same command now runs.
    assert serving_marker(db).exists()
    with Store.open(Settings(db=db), create=False) as store:
        assert audit.verify(store.con).ok
    again = _cli("disputes", "expire", "--db", str(db))
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_stale_marker_is_not_taken_for_the_holder(db: Path) -> None:
    serving_marker(db).write_text('{"pid": 1, "url": "http://127.0.0.1:1"}')
    with Store.open(Settings(db=db)):
        refused = _cli("disputes", "expire", "--db", str(db))
    text = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode != 0 and "in use by process" in text, text
    assert "credo serve' (process" not in text


def _beside(*args: str) -> subprocess.CompletedProcess[str]:
    """A command run beside the test server (its admin token from the environment)."""
    env = {**os.environ, "CREDO_API_ADMIN_TOKEN": ADMIN, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "credo", *args], capture_output=True, text=True, timeout=60,
        env=env,
    )  # fmt: skip


def _json(*args: str) -> Any:
    proc = _beside(*args, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_read_only_commands_and_partners_work_beside_the_server(db: Path) -> None:
    person = scored_persons(db, 1)[0]
    with Store.open(Settings(db=db), create=False) as store:
        expected_status = status_data(store)
        expected_entries = audit.verify(store.con).entries
    with server(db) as (url, _proc):
        status = _json("status", "--db", str(db))
        explained = _json("explain", person, "--db", str(db))
        verified = _json("audit", "verify", "--db", str(db))
        held = _json("quarantine", "--db", str(db), "--limit", "3")
        disputes = _json("disputes", "list", "--db", str(db))
        _json("partners", "add", "acme", "Acme", "--db", str(db))
        key = _beside("partners", "keys", "create", "acme", "-q", "--db", str(db)).stdout.strip()
        listed = _json("partners", "list", "--db", str(db))
        with PartnerClient(url, key=key) as acme:
            assert acme.products()["products"]  # the printed key works at once
        unknown = _beside("explain", "NOBODY", "--db", str(db))
        refused = _beside("rescore", person, "--as-of", "2026-10-31", "--db", str(db))
    assert status["events"] == expected_status["events"] and status["persons"] > 0
    assert status["score_runs"]["monthly"]["runs"] == 1 and status["models"] == 1
    assert explained["person_id"] == person and explained["features"]
    # the server audited its own reads since: more entries, the chain intact
    assert verified["ok"] is True and verified["entries_verified"] > expected_entries
    assert held["total"] == expected_status["quarantined_rows"] and len(held["rows"]) <= 3
    assert disputes == []
    assert [p["partner_id"] for p in listed] == ["acme"]
    assert listed[0]["keys"][0]["key_id"] == key.split("_")[1]
    assert unknown.returncode == 4 and "no person 'NOBODY'" in unknown.stderr
    # a write that has no server route keeps the lock's own message: exactly what to do
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 6 and "credo serve' (process" in said
    assert f"'kill {_proc.pid}'" in said and "then start 'credo serve' again" in said, said


def test_dispute_writes_go_through_the_server(db: Path) -> None:
    """``disputes resolve``, ``expire`` and ``deliver`` beside the server: through its API, as
    the console does, not refused (issue 16, item 3)."""
    from credo.rights import open_dispute

    person = scored_persons(db, 1)[0]
    with Store.open(Settings(db=db), create=False) as store:
        first, second = (
            int(r[0])
            for r in store.con.execute(
                "SELECT event_id FROM event_persons WHERE person_id = ? AND role = 'subject'"
                " ORDER BY event_id LIMIT 2",
                [person],
            ).fetchall()
        )
        dispute = open_dispute(store, person, first, "not mine").dispute_id
        later = open_dispute(store, person, second, "not mine either").dispute_id
    with server(db) as (_url, _proc):
        expired = _json("disputes", "expire", "--db", str(db))
        resolved = _json(
            "disputes", "resolve", dispute, "--decision", "reject", "--note", "checked",
            "--db", str(db),
        )  # fmt: skip
        text = _beside("disputes", "list", "--db", str(db))
        delivered = _beside("disputes", "deliver", "--db", str(db))
        again = _beside("disputes", "resolve", dispute, "--decision", "reject", "--db", str(db))
    assert expired == []  # nothing is overdue
    assert resolved["dispute_id"] == dispute and resolved["status"] == "verified"
    assert text.returncode == 0 and dispute in text.stdout and "verified" in text.stdout
    assert delivered.returncode == 0 and "delivered" in delivered.stdout
    assert again.returncode == 5, again.stdout + again.stderr  # a conflict, as locally
    with Store.open(Settings(db=db), create=False) as store:
        status = store.scalar("SELECT status FROM disputes WHERE dispute_id = ?", [dispute])
    assert status == "verified"
    # with the server stopped, the same command writes the database itself
    local = _json("disputes", "resolve", later, "--decision", "reject", "--db", str(db))
    assert local["dispute_id"] == later and local["status"] == "verified"
