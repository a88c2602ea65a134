"""Helpers for tests: database snapshots, the real CLI as a subprocess, a free port, a page's
CSRF token."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from credo.store.db import Store

TABLES = (
    "sources",
    "loads",
    "events",
    "quarantine",
    "persons",
    "audit_log",
    "pii_vault",
    "event_persons",
)


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snapshot(store: Store) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table: 'changes nothing' made checkable."""
    result = {}
    for table in TABLES:
        rows = store.con.execute(f"SELECT * FROM {table}").fetchall()
        text = sorted(repr(r) for r in rows)
        result[table] = (len(rows), hashlib.sha256("\n".join(text).encode()).hexdigest())
    return result


def run_cli(
    *args: str, db: Path | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """The real `credo` command in a child process, as a user runs it."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    if db is not None:
        env["CREDO_DB"] = str(db)
    proc = subprocess.run(
        [sys.executable, "-m", "credo", *args], capture_output=True, text=True, env=env, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"credo {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def cli_json(*args: str, db: Path | None = None) -> Any:
    proc = run_cli(*args, "--json", db=db, check=True)
    return json.loads(proc.stdout)


def page_token(client: httpx.Client, path: str = "/login") -> str:
    """The CSRF token of a page's forms; the client keeps the cookie the page sets with it."""
    page = client.get(path)
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found, f"{path} shows no form with a CSRF token"
    return found.group(1)
