"""The one object the app holds: the store, the lock that serialises its use, the products.

DuckDB allows one writing process and one connection here, and nearly every request writes
(an audit entry per read of personal data), so every use of the store takes one lock, as
datasette funnels writes through one thread. Most handlers are plain ``def`` calling
``Service.run``: FastAPI runs them in its thread pool while the event loop keeps accepting
connections. Decisions, the hot path, are ``async``: ``Service.decide`` queues them for the
group-commit writer thread (:mod:`credo.api.writer`), which decides from
:class:`~credo.rights.decisions.CachedReads` under the same lock, so a consent revoked or a
file frozen through ``Service.run`` applies to the very next decision.

Every partner call authenticates its API key, so keys that passed are remembered (by the hash
of the whole key, never the key) until any key is revoked through the service; the server is
the only process that can write the database while it runs, so nothing else can revoke one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

from fastapi import Request

from credo.access import (
    ApiKey,
    RefusedKeyError,
    SignInLimiter,
    authenticate_key,
    exchange_login_code,
    key_id_of,
    record_failed_auth,
    revoke_key,
    verify_session,
)
from credo.api.refusals import Kind, Refusals, form_refusal
from credo.api.settings import ApiSettings
from credo.api.writer import DecisionWriter
from credo.errors import AuthError, CredoError, NotFoundError
from credo.policy.products import ProductsPolicy, load_products
from credo.rights.decisions import CachedReads, Decision, DecisionInput, decide_many
from credo.rights.erasure import RightsRequest, erase
from credo.sessions import SessionEnds
from credo.settings import Settings
from credo.store.applier import JournalApplier
from credo.store.audit import AuditEntry
from credo.store.db import Store, load_journal_modules, serving_marker
from credo.webhooks import (
    DeliveryReport,
    due_messages,
    mark_delivery,
    post_message,
    refused_host,
)

__all__ = ["Service", "load_admin_token"]

P = ParamSpec("P")
_MAX_KEYS = 10_000
T = TypeVar("T")


def load_admin_token(settings: Settings, api: ApiSettings) -> str:
    """The admin token: from the settings, else a 0600 file beside the database (created once,
    like the identifier key file)."""
    if api.admin_token:
        return api.admin_token
    path = api.admin_token_file or settings.db.with_suffix(".admin-token")
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return Path(path).read_text().strip()


class Service:
    def __init__(self, settings: Settings, api: ApiSettings) -> None:
        self.settings = settings
        self.api = api
        self.products: ProductsPolicy = load_products(api.products)
        self.admin_token = load_admin_token(settings, api)
        self.lock = threading.Lock()
        self.store = Store.open(settings)
        self.store.con.execute(f"SET fsync_mode = '{api.fsync_mode}'")
        self.store.journal.sync = api.fsync_mode != "none"
        self._marker = serving_marker(settings.db)
        self._marker.write_text(
            json.dumps({"pid": os.getpid(), "url": f"http://{api.host}:{api.port}"})
        )
        self._keys: dict[str, ApiKey] = {}
        # 5 failures a minute per login code's person or API key id, then 429; not the
        # admin token: 32+ random characters, where a limit would only let anyone lock it out
        self.sign_ins = SignInLimiter()
        self.sessions = SessionEnds.load(self.store)
        self.refusals = Refusals()
        self.reads = CachedReads(self.store)
        self.reads.warm()  # what decisions read about everyone, before the first is asked
        load_journal_modules()  # before the app freezes what is loaded (decision 0612)
        self.applier = JournalApplier(
            self.store, api.journal_apply_every, interval=api.journal_apply_seconds
        )
        self.decisions = DecisionWriter(
            self._decide_many, self.lock, api.decision_batch, after_batch=self.applier.nudge
        )

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call a library function with the store to itself, the journal applied first (so
        it reads every acknowledged decision).

        The applier's lock comes before the service's: waiting for an apply in progress must
        not stop the writer from journaling decisions meanwhile."""
        with self.exclusive():
            self.store.apply_journal()
            return fn(*args, **kwargs)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """The store to oneself: the applier's lock, then the service's. Every holder of the
        service's lock that may write (an audit entry applies the journal first) takes both in
        this order, or it and ``run`` could wait on each other for ever. The decision writer
        takes the service's lock alone: it only appends to the journal, never applies it.

        Between the two, the journal is moved into the database: the decisions of up to a
        second (the applier's interval), an Arrow conversion, an insert and a commit that may
        checkpoint, were otherwise moved under the service's lock, where every decision waited
        for them (up to 200 ms, every background round: docs/decisions/0965). What the writer
        journals meanwhile, a few milliseconds' worth, is moved under the lock by the holder."""
        with self.store.applying:
            self._move_journal()
            with self.lock:
                yield

    def _move_journal(self) -> None:
        """Apply the journal with a cursor of this thread's own (the connection itself is the
        service lock's holder's), while the writer goes on journaling."""
        if self.store.journaled:
            cursor = self.store.con.cursor()
            try:
                self.store.apply_journal(cursor)
            finally:
                cursor.close()

    async def decide(self, ask: DecisionInput) -> Decision:
        """Decide through the group-commit writer; returns once the decision is committed."""
        return await self.decisions.submit(ask)

    def _decide_many(self, asks: list[DecisionInput]) -> list[Decision | CredoError]:
        return decide_many(self.store, asks, self.products, self.reads, journal=True)

    def known_key(self, key: str) -> ApiKey | None:
        """A key that passed before and was not revoked since: no store, no lock."""
        return self._keys.get(hashlib.sha256(key.encode()).hexdigest())

    def authenticate(self, key: str) -> ApiKey:
        """The API key's partner and scopes (remembered once it passed), or ``AuthError``."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        known = self._keys.get(digest)
        if known is not None:
            return known
        who = key_id_of(key) or "malformed"
        with self.exclusive():  # revoke_key clears the cache under the same lock: no stale entry
            self.sign_ins.check("api_key", who)
            try:
                found = authenticate_key(self.store, key)
            except RefusedKeyError:  # audited with its route by the API's error handler
                self.sign_ins.failed("api_key", who)
                raise
            self.sign_ins.succeeded("api_key", who)
            if len(self._keys) >= _MAX_KEYS:
                self._keys.clear()
            self._keys[digest] = found
            return found

    def sign_in(self, person_id: str, code: str, ttl: dt.timedelta) -> str:
        """A session token for a login code, within the person's failed sign-in limit."""
        with self.exclusive():
            self.sign_ins.check("login_code", person_id)
            try:
                token = exchange_login_code(self.store, person_id, code, ttl=ttl)
            except AuthError:
                self.sign_ins.failed("login_code", person_id)
                raise
            self.sign_ins.succeeded("login_code", person_id)
            return token

    def erase(self, person_id: str, actor: str | None = None) -> RightsRequest:
        """Erase the person's data, then rewrite the file so the deleted rows leave no bytes
        in it (docs/decisions/0643): both under the store's lock, so no request sees half."""
        with self.exclusive():
            self.store.apply_journal()
            request = erase(self.store, person_id, actor=actor)
            self.store.rewrite()
            self.store.con.execute(f"SET fsync_mode = '{self.api.fsync_mode}'")
            return request

    def revoke_key(self, key_id: str) -> None:
        with self.exclusive():
            revoke_key(self.store, key_id)
            self._keys.clear()

    def revoke_partner_keys(self, partner_id: str, actor: str = "admin") -> list[str]:
        """End a partner's access: every key it holds is revoked (its keys are its sessions)."""
        with self.exclusive():
            self.store.apply_journal()
            if not self.store.scalar(
                "SELECT count(*) FROM partners WHERE partner_id = ?", [partner_id]
            ):
                raise NotFoundError(f"no partner {partner_id!r}")
            live = self.store.con.execute(
                "SELECT key_id FROM api_keys WHERE partner_id = ? AND revoked_at IS NULL"
                " ORDER BY key_id",
                [partner_id],
            ).fetchall()
            for (key_id,) in live:
                revoke_key(self.store, key_id, actor=actor)
            self._keys.clear()
            return [str(k) for (k,) in live]

    def verify_session(self, token: str) -> str:
        """The person a session token names, unless it expired or was ended (signed out)."""
        return verify_session(self.store, token, ends=self.sessions)

    def end_sessions(self, subject: str, actor: str, reason: str) -> None:
        """End every session ``subject`` (``person:<id>``, ``operator``) holds now."""
        self.run(self.sessions.end, self.store, subject, actor, reason)

    async def refused(self, kind: Kind, entry: AuditEntry) -> None:
        """Audit a refused request, grouped with its repeats (:mod:`credo.api.refusals`)."""
        entries = self.refusals.note(kind, entry, time.monotonic())
        if entries:
            await asyncio.to_thread(self.run, self._audit_all, entries)

    async def form_refused(self, request: Request, actor: str, reason: str) -> None:
        await self.refused(*form_refusal(request, actor, reason))

    def flush_refusals(self, *, everything: bool = False) -> None:
        """Write the counts of repeated refusals whose minute has passed (all: on stop)."""
        entries = self.refusals.due(time.monotonic(), everything=everything)
        if entries:
            self.run(self._audit_all, entries)

    def _audit_all(self, entries: list[AuditEntry]) -> None:
        for entry in entries:
            self.store.audit(entry)

    def check_admin(self, token: str | None) -> None:
        if token is None or not hmac.compare_digest(token, self.admin_token):
            reason = "missing admin token" if token is None else "wrong admin token"
            self.run(record_failed_auth, self.store, "admin_token", reason)
            raise AuthError("invalid admin token")

    def deliver_now(self) -> DeliveryReport:
        """Deliver due partner notices; the HTTP calls run without the store's lock, so a slow
        partner never holds up the other requests."""
        delivered = failed = 0
        hosts = self.settings.webhook_hosts
        for message in self.run(due_messages, self.store):
            error = refused_host(message.url, hosts) or post_message(message)
            self.run(mark_delivery, self.store, message, error)
            delivered += error is None
            failed += error is not None
        return DeliveryReport(delivered, failed)

    def close(self) -> None:
        self.decisions.close()  # commits what is queued first
        self.applier.close()
        self.flush_refusals(everything=True)
        with self.exclusive():
            self.store.close()
        self._marker.unlink(missing_ok=True)
