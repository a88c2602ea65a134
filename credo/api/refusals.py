"""Refused requests in the audit chain, bounded (issue 17, item 2; docs/decisions/0620).

A partner's request refused (401 bad key, 403 scope or consent, 404, 423 frozen, 429) and a
form refused by the origin or CSRF check each leave an audit entry naming the caller (partner
or credential), the route and the reason. Refusals read and change nothing, so someone
hammering one route must not grow the chain by one entry a request: the first refusal of a
(caller, route, reason) is written at once with ``count`` 1, and the repeats within the next
``window`` seconds are only counted in memory, then written as one more entry with their
``count`` when the window has passed (on the service's background round, on the next refusal
of that kind, or when the server stops). So each kind costs at most two entries a minute.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from credo.errors import CredoError
from credo.store.audit import AuditEntry

__all__ = ["PARTNER_KEY", "REFUSAL_REASON", "Refusals", "form_refusal", "partner_refusal"]

PARTNER_KEY = "credo.api_key"
"""Where a partner route's key check leaves what it learnt in the request's scope: the claimed
credential (``api_key:<id>``) before the check, the :class:`~credo.access.ApiKey` after."""

REFUSAL_REASON = "credo.refusal_reason"
"""Why a key was refused, for the audit only (the caller is told "invalid or revoked")."""

Kind = tuple[str, str, str, str]  # actor, credential, route, reason


@dataclass
class _Group:
    since: float
    entry: AuditEntry
    repeats: int = 0


def _counted(entry: AuditEntry, count: int) -> AuditEntry:
    return dataclasses.replace(entry, details={**entry.details, "count": count})


class Refusals:
    """Refusals grouped by kind within a window: which entries to write, and when."""

    def __init__(self, window: float = 60.0, max_kinds: int = 10_000) -> None:
        self.window = window
        self.max_kinds = max_kinds
        self._groups: dict[Kind, _Group] = {}
        self._lock = threading.Lock()

    def note(self, kind: Kind, entry: AuditEntry, now: float) -> list[AuditEntry]:
        """Count a refusal; returns the entries to write now (none for a repeat)."""
        with self._lock:
            group = self._groups.get(kind)
            if group is not None and now - group.since < self.window:
                group.repeats += 1
                return []
            out = []
            if group is not None:  # its window passed: its repeats are written now
                del self._groups[kind]
                if group.repeats:
                    out.append(_counted(group.entry, group.repeats))
            if len(self._groups) >= self.max_kinds:  # bounded: write every count, start again
                out += self._take(lambda _g: True)
            self._groups[kind] = _Group(now, entry)
            out.append(_counted(entry, 1))
            return out

    def due(self, now: float, *, everything: bool = False) -> list[AuditEntry]:
        """The counts of repeats whose window has passed (or all of them), to write now."""
        with self._lock:
            return self._take(lambda g: everything or now - g.since >= self.window)

    def _take(self, done: Callable[[_Group], bool]) -> list[AuditEntry]:
        finished = [k for k, g in self._groups.items() if done(g)]
        groups = [self._groups.pop(k) for k in finished]
        return [_counted(g.entry, g.repeats) for g in groups if g.repeats]


def _route(request: Request) -> str:
    """The route's template (``/v1/reports/{person}``), not the path: one kind per route."""
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def partner_refusal(request: Request, exc: CredoError) -> tuple[Kind, AuditEntry] | None:
    """The audit entry for a refused partner request, or ``None`` if it is not one."""
    path = request.url.path
    if not path.startswith("/v1/") or path.startswith("/v1/me") or exc.http_status < 400:
        return None
    if exc.http_status not in (401, 403, 404, 423, 429):
        return None
    route, known = _route(request), request.scope.get(PARTNER_KEY)
    if isinstance(known, str) or known is None or exc.http_status in (401, 429):
        claimed = known if isinstance(known, str) else None
        reason = str(request.scope.get(REFUSAL_REASON, exc.message))
        details = {"credential": "api_key", "reason": reason, "route": route}
        entry = AuditEntry("anonymous", "auth.failed", claimed, "sign-in", details)
        return ("anonymous", str(claimed), route, reason), entry
    actor, credential = f"partner:{known.partner_id}", f"api_key:{known.key_id}"
    why = {"route": route, "status": exc.http_status, "reason": exc.message}
    entry = AuditEntry(actor, "access.refused", credential, "partner request", why)
    return (actor, credential, route, exc.message), entry


def form_refusal(request: Request, actor: str, reason: str) -> tuple[Kind, AuditEntry]:
    """The audit entry for a form refused by the origin or CSRF check."""
    route = _route(request)
    entry = AuditEntry(actor, "form.refused", None, "form check", {"route": route,
                                                                   "reason": reason})  # fmt: skip
    return (actor, "form", route, reason), entry
