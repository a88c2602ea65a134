"""The append-only, hash-chained audit log.

Each entry's hash covers its own fields and the hash of the entry before it, so editing,
deleting or reordering any entry breaks every link after it. ``verify`` walks the chain and
names the first broken entry. Truncating the newest entries leaves a valid shorter chain: the
head (number and hash of the newest entry) is also kept in ``meta`` at every append, so
``verify`` notices a cut tail too, unless the same hand edits ``meta``; the head hash it
prints is what to record elsewhere to be sure (docs/decisions/0004).
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


_HEAD = "audit_head"


def _head(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """The newest entry's number and hash, kept in ``meta`` so an append reads one row
    instead of scanning a log that grows with every request."""
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [_HEAD]).fetchall()
    if rows:
        seq, digest = rows[0][0].split(":", 1)
        return int(seq), digest
    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
    return (int(last[0][0]), str(last[0][1])) if last else (0, GENESIS)


def append(con: duckdb.DuckDBPyConnection, entry: AuditEntry, at: dt.datetime) -> int:
    """Append inside the caller's transaction, so the entry commits with the write it records."""
    last, prev = _head(con)
    seq = last + 1
    details = _canonical_details(entry.details)
    at = at.replace(tzinfo=None)
    digest = entry_hash(
        seq, at, entry.actor, entry.action, entry.target, entry.purpose, details, prev
    )
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, at, entry.actor, entry.action, entry.target, entry.purpose, details, prev, digest],
    )
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [_HEAD, f"{seq}:{digest}"],
    )
    return seq


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
    head = con.execute("SELECT value FROM meta WHERE key = ?", [_HEAD]).fetchall()
    if head and head[0][0] != f"{count}:{prev}":
        # The chain is whole but shorter (or other) than the head recorded at the last append:
        # entries were removed from its end.
        recorded = int(head[0][0].split(":", 1)[0])
        return ChainReport(
            count,
            prev,
            broken_at=min(count + 1, recorded),
            problem=f"the log ends at entry {count}, but entry {recorded} was the last written "
            "(entries removed from its end)",
        )
    return ChainReport(count, prev)
