"""Who may call the service: partners with scoped API keys, persons with one-time login codes
exchanged for signed session tokens (SPEC S12).

* An API key is ``credo_<key_id>_<secret>``; only the SHA-256 of the 32-byte random secret is
  stored (a random secret needs no slow hash), compared in constant time. It is shown once.
* A login code is issued by the operator for one person, shown once, stored as a keyed hash,
  valid 15 minutes and once.
* A session token is ``<payload>.<signature>``: base64url JSON (person, expiry, issued at)
  signed with HMAC-SHA256 under a key derived from the store's secret, so it survives restarts
  and needs no table; changing the secret ends every session, and :mod:`credo.sessions` ends
  one person's (signing out).
* A failed sign-in of any audience is audited (``auth.failed``) with the credential kind, the
  reason and what the caller claimed to be (a key id, a person id), never the secret or code.
* :class:`SignInLimiter` refuses a credential after ``limit`` failures within ``window`` (the
  service: 5 a minute per API key id and per person's login code) with
  :class:`SignInLimitedError` (HTTP 429, ``Retry-After``), so codes and secrets cannot be
  guessed at the server's speed. It counts in memory, in the one server process.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from credo.errors import AuthError, ConfigError, ConflictError, InputError, NotFoundError
from credo.rights.audited import person_exists
from credo.sessions import SessionEnds, now_ms
from credo.store.audit import AuditEntry
from credo.store.db import Store, now_or
from credo.store.rows import rows
from credo.webhooks import refused_host

__all__ = [
    "SCOPES",
    "ApiKey",
    "Partner",
    "RefusedKeyError",
    "SignInLimitedError",
    "SignInLimiter",
    "authenticate_key",
    "create_key",
    "create_partner",
    "exchange_login_code",
    "issue_login_code",
    "key_id_of",
    "list_partners",
    "record_failed_auth",
    "revoke_key",
    "verify_session",
]

Scope = Literal["decisions", "reports", "outcomes"]
Credential = Literal["api_key", "login_code", "session", "admin_token"]
SCOPES: tuple[Scope, ...] = ("decisions", "reports", "outcomes")
LOGIN_CODE_TTL = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    webhook_url: str | None
    webhook_secret: str | None = None  # only when just created
    jurisdiction: str | None = None


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    partner_id: str
    scopes: tuple[str, ...]
    key: str | None = None  # the full key, only when just created


class SignInLimitedError(AuthError):
    """Too many failed sign-ins with this credential: wait ``retry_after`` seconds."""

    http_status = 429

    def __init__(self, credential: str, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins with this {credential.replace('_', ' ')}",
            hint=f"retry after {retry_after} s",
        )
        self.retry_after = retry_after


class SignInLimiter:
    """Failed sign-ins per credential (kind and who it claims to be) in a sliding window.

    Memory is bounded without forgetting a lock: past ``max_tracked`` credentials a sweep drops
    those whose failures left the window or that are not locked, and keeps every locked one
    (failures on made-up ids must not unlock a real credential). Locks last one window, so what
    stays is bounded by the request rate; the next sweep waits until the table has doubled,
    so each failure costs amortised constant time."""

    def __init__(self, limit: int = 5, window: float = 60.0, max_tracked: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_tracked = max_tracked
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._sweep_at = max_tracked

    def check(self, credential: str, who: str, now: float | None = None) -> None:
        """Raise ``SignInLimitedError`` while this credential has ``limit`` recent failures."""
        now = time.monotonic() if now is None else now
        recent = self._failures.get((credential, who))
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if recent is not None and len(recent) >= self.limit:
            raise SignInLimitedError(credential, max(1, int(recent[0] + self.window - now) + 1))

    def failed(self, credential: str, who: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = (credential, who)
        if len(self._failures) >= self._sweep_at:
            self._sweep(now, keep=key)
        self._failures.setdefault(key, deque()).append(now)

    def _sweep(self, now: float, keep: tuple[str, str]) -> None:
        """Drop every credential that is not locked now, except the one failing now (its count
        goes on); keep the locked ones. Other partial counts start again: guessing at one
        credential past a sweep takes ``max_tracked`` failures elsewhere for each ``limit``."""
        start = now - self.window
        self._failures = {
            key: times
            for key, times in self._failures.items()
            if key == keep or sum(t > start for t in times) >= self.limit
        }
        self._sweep_at = max(self.max_tracked, 2 * len(self._failures))

    def succeeded(self, credential: str, who: str) -> None:
        self._failures.pop((credential, who), None)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_partner(
    store: Store,
    partner_id: str,
    name: str,
    *,
    webhook_url: str | None = None,
    jurisdiction: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    agency: str | None = None,
    actor: str = "admin",
) -> Partner:
    """Register a partner; the webhook secret (to check our signatures) is shown only now.
    ``jurisdiction`` names the rules profile its requests follow (``us-fcra``; ``None``: the
    installation's ``rules_profile``), checked now so a typo never reaches a request.
    ``address``, ``phone`` and ``agency`` (the body that supervises it) are what its adverse
    notices and its reinsertion notices tell the person (RULES R-ECOA-3, R-FCRA-7)."""
    for field, text in (("address", address), ("phone", phone), ("agency", agency)):
        if text is not None and not text.strip():
            raise InputError(f"field {field}: must not be blank")
    if not partner_id or not partner_id.replace("-", "").replace("_", "").isalnum():
        raise InputError("field partner_id: letters, digits, '-' and '_' only")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise InputError("field webhook_url: must be an http(s) URL")
    if webhook_url is not None and (why := refused_host(webhook_url, store.settings.webhook_hosts)):
        raise InputError(f"field webhook_url: {why}", hint="ask the operator to allow the host")
    if jurisdiction is not None:
        from credo.policy.rules import load_rules

        try:
            if not jurisdiction.replace("-", "").isalnum():  # a profile's name, never a path
                raise ConfigError(jurisdiction)
            profile = load_rules(jurisdiction)
        except (ConfigError, InputError, OSError) as exc:
            raise InputError(
                f"field jurisdiction: no rules profile {jurisdiction!r}",
                hint="one of the profiles in policies/rules (us-fcra, eu-gdpr, cn-crr, default)",
            ) from exc
        # R-ECOA-3: a US creditor's adverse notices give its address and its federal agency.
        for field, text in (("address", address), ("agency", agency)):
            if profile.jurisdiction == "US" and text is None:
                raise InputError(
                    f"field {field}: a partner under {jurisdiction} needs one",
                    hint="its adverse-action notices must give its address and the federal"
                    " agency that supervises it (ECOA, Reg B 1002.9)",
                )
    if store.scalar("SELECT count(*) FROM partners WHERE partner_id = ?", [partner_id]):
        raise ConflictError(f"partner {partner_id!r} exists")
    secret = secrets.token_hex(32)
    entry = AuditEntry(actor, "partner.create", f"partner:{partner_id}", "onboard partner")
    with store.write(entry) as con:
        con.execute(
            "INSERT INTO partners (partner_id, name, webhook_url, webhook_secret, created_at,"
            " address, phone, agency) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                partner_id,
                name,
                webhook_url,
                store.keys.encrypt("webhook", secret),
                now_or(None),
                address,
                phone,
                agency,
            ],
        )
        if jurisdiction is not None:
            con.execute(
                "INSERT INTO partner_jurisdictions VALUES (?, ?)", [partner_id, jurisdiction]
            )
    return Partner(partner_id, name, webhook_url, secret, jurisdiction)


def list_partners(store: Store) -> list[dict[str, Any]]:
    """Every partner with its keys (ids, scopes, when made and revoked; never a secret)."""
    partners = rows(
        store.con,
        "SELECT partner_id, name, webhook_url, j.jurisdiction, created_at FROM partners"
        " LEFT JOIN partner_jurisdictions j USING (partner_id) ORDER BY 1",
    )
    keys = rows(
        store.con,
        "SELECT key_id, partner_id, scopes, created_at, revoked_at FROM api_keys"
        " ORDER BY created_at, key_id",
    )
    for p in partners:
        p["keys"] = [
            {k: v for k, v in key.items() if k != "partner_id"}
            for key in keys
            if key["partner_id"] == p["partner_id"]
        ]
    return partners


def create_key(store: Store, partner_id: str, scopes: list[str], *, actor: str = "admin") -> ApiKey:
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InputError(f"field scopes: each must be one of {list(SCOPES)}")
    if not store.scalar("SELECT count(*) FROM partners WHERE partner_id = ?", [partner_id]):
        raise NotFoundError(f"no partner {partner_id!r}")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    entry = AuditEntry(
        actor, "api_key.create", f"partner:{partner_id}", "grant API access",
        {"key_id": key_id, "scopes": sorted(set(scopes))},
    )  # fmt: skip
    with store.write(entry) as con:
        con.execute(
            "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
            [key_id, partner_id, _sha(secret), sorted(set(scopes)), now_or(None)],
        )
    return ApiKey(key_id, partner_id, tuple(sorted(set(scopes))), f"credo_{key_id}_{secret}")


def revoke_key(store: Store, key_id: str, *, actor: str = "admin") -> None:
    if not store.scalar("SELECT count(*) FROM api_keys WHERE key_id = ?", [key_id]):
        raise NotFoundError(f"no API key {key_id!r}")
    entry = AuditEntry(actor, "api_key.revoke", f"api_key:{key_id}", "revoke API access")
    with store.write(entry) as con:
        con.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            [now_or(None), key_id],
        )


_KEY_ID = re.compile(r"[0-9a-f]{12}")


def record_failed_auth(
    store: Store, credential: Credential, reason: str, *, claimed: str | None = None
) -> None:
    """Audit a refused credential. ``claimed`` names who the caller said they were (a key id,
    a person id), never a secret, code or token; the answer to the caller stays generic."""
    details = {"credential": credential, "reason": reason}
    entry = AuditEntry("anonymous", "auth.failed", claimed, "sign-in", details)
    store.audit(entry)


def key_id_of(key: str) -> str | None:
    """The key id a presented API key claims, if it is well formed (never its secret)."""
    prefix, _, rest = key.partition("_")
    key_id = rest.partition("_")[0]
    return key_id if prefix == "credo" and _KEY_ID.fullmatch(key_id) else None


class RefusedKeyError(AuthError):
    """An API key refused: the caller is told only that, the audit entry (written by the
    service with the route, docs/decisions/0620) gets ``reason`` and ``claimed``."""

    def __init__(self, reason: str, claimed: str | None) -> None:
        super().__init__("invalid or revoked API key")
        self.reason = reason
        self.claimed = claimed


def authenticate_key(store: Store, key: str) -> ApiKey:
    """The key's partner and scopes, or ``RefusedKeyError`` (never which part was wrong)."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    rows = store.con.execute(
        "SELECT partner_id, secret_hash, scopes FROM api_keys WHERE key_id = ?"
        " AND revoked_at IS NULL",
        [key_id],
    ).fetchall()
    if prefix != "credo" or not rows or not hmac.compare_digest(rows[0][1], _sha(secret)):
        # Only a well-formed key id is named: a mangled key could hold its secret anywhere.
        if prefix != "credo" or _KEY_ID.fullmatch(key_id) is None:
            raise RefusedKeyError("malformed key", None)
        reason = "unknown or revoked key" if not rows else "wrong secret"
        raise RefusedKeyError(reason, f"api_key:{key_id}")
    return ApiKey(key_id, str(rows[0][0]), tuple(rows[0][2]))


def _code_hash(store: Store, code: str) -> str:
    return hmac.new(store.keys.hmac_key, f"login:{code}".encode(), hashlib.sha256).hexdigest()


def issue_login_code(
    store: Store,
    person_id: str,
    *,
    actor: str = "admin",
    now: dt.datetime | None = None,
    ttl: dt.timedelta = LOGIN_CODE_TTL,
) -> str:
    """A one-time code for the person to sign in with (handed over out of band); it works
    once, for ``ttl`` (15 minutes unless a caller such as the local demo says otherwise)."""
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    code = "-".join(secrets.token_hex(3) for _ in range(3))
    at = now_or(now)
    entry = AuditEntry(actor, "login_code.issue", f"person:{person_id}", "person sign-in")
    with store.write(entry) as con:
        con.execute(
            "INSERT INTO login_codes VALUES (?, ?, ?, ?, NULL)",
            [_code_hash(store, code), person_id, at, at + ttl],
        )
    return code


def _person(person_id: str) -> str:
    # A claimed id is attacker input: kept short so a pasted secret cannot fill the log.
    return f"person:{person_id[:100]}"


def _session_key(store: Store) -> bytes:
    return hmac.new(store.keys.hmac_key, b"credo session v1", hashlib.sha256).digest()


def _epoch(at: dt.datetime) -> int:
    return int(at.replace(tzinfo=dt.UTC).timestamp())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def exchange_login_code(
    store: Store,
    person_id: str,
    code: str,
    *,
    ttl: dt.timedelta = dt.timedelta(hours=1),
    now: dt.datetime | None = None,
) -> str:
    """A signed session token for the person, once per code."""
    at = now_or(now)
    digest = _code_hash(store, code.strip().lower())
    rows = store.con.execute(
        "SELECT expires_at, used_at FROM login_codes WHERE code_hash = ? AND person_id = ?",
        [digest, person_id],
    ).fetchall()
    if not rows or rows[0][1] is not None or rows[0][0] < at:
        reason = "unknown" if not rows else "used" if rows[0][1] is not None else "expired"
        record_failed_auth(store, "login_code", f"{reason} login code", claimed=_person(person_id))
        raise AuthError("invalid, used or expired login code")
    entry = AuditEntry(f"person:{person_id}", "session.start", f"person:{person_id}", "sign-in")
    with store.write(entry) as con:
        con.execute("UPDATE login_codes SET used_at = ? WHERE code_hash = ?", [at, digest])
    claims = {"sub": person_id, "exp": _epoch(at + ttl), "iat": now_ms()}
    payload = _b64(json.dumps(claims).encode())
    sig = _b64(hmac.new(_session_key(store), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{sig}"


def verify_session(
    store: Store, token: str, *, ends: SessionEnds | None = None, now: dt.datetime | None = None
) -> str:
    """The person a session token was issued to, or ``AuthError`` (also once ``ends`` says
    the person's sessions were ended after it was issued: signed out)."""
    payload, _, sig = token.partition(".")
    expected = _b64(hmac.new(_session_key(store), payload.encode(), hashlib.sha256).digest())
    if not sig or not hmac.compare_digest(sig, expected):
        raise AuthError("invalid session token")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        person, exp, issued = str(data["sub"]), int(data["exp"]), int(data.get("iat", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AuthError("invalid session token") from None
    if exp < _epoch(now_or(now)):
        raise AuthError("session expired", hint="sign in again with a new login code")
    if ends is not None and ends.ended(f"person:{person}", issued):
        raise AuthError("session ended", hint="sign in again with a new login code")
    return person
