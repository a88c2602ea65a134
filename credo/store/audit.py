"""The append-only, hash-chained audit log.

Each entry's hash covers its own fields and the hash of the entry before it, so editing,
deleting or reordering any entry breaks every link after it. ``verify`` walks the chain and
names the first broken entry. Truncating the newest entries leaves a valid shorter chain: the
head hash ``verify`` prints is what to record elsewhere to detect that (docs/decisions/0004).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

__all__ = ["GENESIS", "AuditEntry", "ChainReport", "append", "entry_hash", "verify"]

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which data, and why."""

    actor: str
    action: str
    target: str | None = None
    purpose: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _canonical_details(details: dict[str, Any]) -> str:
    return json.dumps(
        details, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def entry_hash(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str | None,
    purpose: str | None,
    details: str | None,
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(), actor, action, target, purpose, details, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(con: duckdb.DuckDBPyConnection, entry: AuditEntry, at: dt.datetime) -> int:
    """Append inside the caller's transaction, so the entry commits with the write it records."""
    rows = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
    seq, prev = (rows[0][0] + 1, rows[0][1]) if rows else (1, GENESIS)
    details = _canonical_details(entry.details)
    at = at.replace(tzinfo=None)
    digest = entry_hash(
        seq, at, entry.actor, entry.action, entry.target, entry.purpose, details, prev
    )
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, at, entry.actor, entry.action, entry.target, entry.purpose, details, prev, digest],
    )
    return int(seq)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(con: duckdb.DuckDBPyConnection, batch: int = 50_000) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    count = 0
    cur = con.execute(
        "SELECT seq, logged_at, actor, action, target, purpose, details, prev_hash, hash "
        "FROM audit_log ORDER BY seq"
    )
    while rows := cur.fetchmany(batch):
        for seq, at, actor, action, target, purpose, details, prev_hash, stored in rows:
            count += 1
            problem = None
            if seq != expected_seq:
                problem = f"entry {expected_seq} is missing (next entry is {seq})"
            elif prev_hash != prev:
                problem = "its link to the previous entry does not match"
            elif entry_hash(seq, at, actor, action, target, purpose, details, prev) != stored:
                problem = "its content does not match its hash (edited after it was written)"
            if problem is not None:
                cur.fetchall()  # DuckDB 2: a half-read result blocks the connection
                return ChainReport(count - 1, prev, broken_at=expected_seq, problem=problem)
            prev = stored
            expected_seq += 1
    return ChainReport(count, prev)
