"""Ending sessions on the server: a per-subject "not before" moment (issue 17, item 3).

Session tokens and the operator's cookie are signed, not stored, so they cannot be deleted. A
subject (``person:<id>``, ``operator``) instead gets a moment before which every credential
issued to it is over; signing out sets it, and so does the operator ending someone's
sessions. Checking it is one dictionary look-up when a token is verified, and the moments are
kept in ``meta`` (one row per subject ever ended), so a restart keeps them
(docs/decisions/0620).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from credo.store.audit import AuditEntry
from credo.store.db import Store

__all__ = ["SessionEnds", "now_ms"]

_PREFIX = "sessions_end:"


def now_ms() -> int:
    """Wall-clock milliseconds: when a credential is issued or ended (never for scoring)."""
    return time.time_ns() // 1_000_000


class SessionEnds:
    """Per subject, the moment (epoch milliseconds) before which its credentials are over."""

    def __init__(self, ends: dict[str, int] | None = None) -> None:
        self._ends = dict(ends or {})
        self._lock = threading.Lock()

    @classmethod
    def load(cls, store: Store) -> SessionEnds:
        rows = store.con.execute(
            "SELECT key, value FROM meta WHERE starts_with(key, ?)", [_PREFIX]
        ).fetchall()
        return cls({str(k).removeprefix(_PREFIX): int(v) for k, v in rows})

    def ended(self, subject: str, issued_ms: int) -> bool:
        """Whether a credential of ``subject`` issued at ``issued_ms`` was ended since."""
        return issued_ms < self._ends.get(subject, 0)

    def end(
        self, store: Store, subject: str, actor: str, reason: str, *, at_ms: int | None = None
    ) -> int:
        """End every credential ``subject`` holds now, audited; returns the moment."""
        at = now_ms() if at_ms is None else at_ms
        details = {"ended_before": dt.datetime.fromtimestamp(at / 1000, dt.UTC).isoformat()}
        entry = AuditEntry(actor, "sessions.end", subject, reason, details)
        with self._lock:
            with store.write(entry) as con:
                con.execute(
                    "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
                    [_PREFIX + subject, str(at), str(at)],
                )
            self._ends[subject] = max(at, self._ends.get(subject, 0))
        return at
