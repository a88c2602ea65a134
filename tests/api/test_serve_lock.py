"""While ``credo serve`` holds the database, a CLI command that writes is refused with a message
naming the server, and the file is left whole (a real server process, DuckDB's real lock)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from credo.settings import Settings
from credo.store import audit
from credo.store.db import Store, serving_marker

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
