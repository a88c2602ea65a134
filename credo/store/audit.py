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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditRow",
    "ChainReport",
    "append",
    "append_many",
    "chain",
    "current_head",
    "entry_hash",
    "insert_rows",
    "set_head",
    "verify",
]

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which data, and why."""

    actor: str
    action: str
    target: str | None = None
    purpose: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# Built once: ``json.dumps`` with options makes a new encoder per call, and every audit entry
# encodes twice. The output is exactly ``json.dumps`` with the same options (the chain's hashes
# depend on it).
_DETAILS = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _canonical_details(details: dict[str, Any]) -> str:
    return _DETAILS.encode(details)


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
    canonical = _CANONICAL.encode(
        [seq, at.isoformat(), actor, action, target, purpose, details, prev_hash]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_HEAD = "audit_head"


def current_head(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
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
    return append_many(con, [entry], at)[0]


def append_many(
    con: duckdb.DuckDBPyConnection,
    entries: Sequence[AuditEntry],
    at: dt.datetime,
    head: tuple[int, str] | None = None,
) -> tuple[int, str]:
    """Append several entries, chained in order, inside the caller's transaction; returns the
    new head (number and hash of the last entry).

    One insert and one head update however many entries: the server's group commit
    (docs/decisions/0610) writes a batch of decisions, each with its own entry, this way.
    ``head`` is the head the caller remembers from its last commit, saving the read; a wrong
    one cannot pass unnoticed, as the next number would collide with the log's primary key.
    """
    rows, new_head = chain(entries, at, head or current_head(con))
    insert_rows(con, rows)
    return new_head


AuditRow = tuple[int, dt.datetime, str, str, str | None, str | None, str, str, str]
"""An ``audit_log`` row: seq, logged_at, actor, action, target, purpose, details, prev, hash."""


def chain(
    entries: Sequence[AuditEntry], at: dt.datetime, head: tuple[int, str]
) -> tuple[list[AuditRow], tuple[int, str]]:
    """The log rows for ``entries`` chained after ``head``, and the new head; writes nothing
    (the server's journal makes them durable before the database sees them, 0612)."""
    last, prev = head
    at = at.replace(tzinfo=None)
    rows: list[AuditRow] = []
    for seq, entry in enumerate(entries, start=last + 1):
        details = _canonical_details(entry.details)
        digest = entry_hash(
            seq, at, entry.actor, entry.action, entry.target, entry.purpose, details, prev
        )
        rows.append((seq, at, entry.actor, entry.action, entry.target, entry.purpose, details,
                     prev, digest))  # fmt: skip
        prev = digest
    return rows, (last + len(rows), prev)


def insert_rows(con: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[Any]]) -> None:
    """Insert chained rows (from :func:`chain`) and move the head to the last of them."""
    if not rows:
        return
    # Columns as lists, unnested in lockstep: one statement whatever the number of rows, where
    # a VALUES list grows the statement to parse with every row.
    columns = [list(c) for c in zip(*rows, strict=True)]
    con.execute(f"INSERT INTO audit_log SELECT {', '.join(['unnest(?)'] * 9)}", columns)
    set_head(con, rows[-1])


def set_head(con: duckdb.DuckDBPyConnection, row: Sequence[Any]) -> None:
    """Record ``row`` (the newest entry, already inserted) as the head."""
    value = f"{row[0]}:{row[8]}"
    updated = con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, _HEAD]).fetchall()
    if not updated[0][0]:  # the first entry: an upsert costs twice an update, so only then
        con.execute("INSERT INTO meta VALUES (?, ?)", [_HEAD, value])


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def to_dict(self) -> dict[str, Any]:
        """As ``credo audit verify --json`` prints it and ``/admin/audit/verify`` answers."""
        return {"ok": self.ok, "entries_verified": self.entries, "head": self.head,
                "broken_at": self.broken_at, "problem": self.problem}  # fmt: skip


def verify(
    con: duckdb.DuckDBPyConnection,
    batch: int = 50_000,
    *,
    after: tuple[int, str] | None = None,
) -> ChainReport:
    """Walk the chain from the start, or only past ``after`` (an entry number and hash that an
    earlier walk found intact: the console re-checks only what was appended since)."""
    start, prev = after or (0, GENESIS)
    expected_seq = start + 1
    count = start
    cur = con.execute(
        "SELECT seq, logged_at, actor, action, target, purpose, details, prev_hash, hash "
        "FROM audit_log WHERE seq > ? ORDER BY seq",
        [start],
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
