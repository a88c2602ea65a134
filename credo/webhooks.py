"""The webhook outbox: notices to partners, written with the change that causes them and
delivered later with retries (R-BL-6 propagation).

A notice is a row in ``webhook_outbox`` committed in the same transaction as the correction,
so a crash can delay a notice but never lose it. Delivery POSTs the JSON body with an
``X-Credo-Signature: sha256=<hex>`` header (HMAC with the partner's webhook secret); a failure
is retried with exponential backoff (30 s, 1 min, 2 min, ... capped at 1 h) up to
``MAX_ATTEMPTS`` tries. The HTTP call happens outside any database transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import duckdb

from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or

__all__ = [
    "MAX_ATTEMPTS",
    "DeliveryReport",
    "Message",
    "deliver_webhooks",
    "due_messages",
    "enqueue",
    "mark_delivery",
    "post_message",
    "refused_host",
]

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Message:
    message_id: str
    partner_id: str
    url: str
    body: str
    signature: str


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int


def enqueue(
    con: duckdb.DuckDBPyConnection, partner_id: str, payload: dict[str, Any], at: dt.datetime
) -> str | None:
    """Queue a notice inside the caller's transaction (``None`` if the partner has no URL)."""
    rows = con.execute(
        "SELECT webhook_url FROM partners WHERE partner_id = ?", [partner_id]
    ).fetchall()
    if not rows or rows[0][0] is None:
        return None
    message_id = new_id("msg")
    body = {"message_id": message_id, **payload}
    con.execute(
        "INSERT INTO webhook_outbox VALUES (?, ?, ?, ?, ?, 0, ?, NULL, NULL)",
        [message_id, partner_id, rows[0][0], json.dumps(body, default=str), at, at],
    )
    return message_id


def due_messages(store: Store, *, now: dt.datetime | None = None, limit: int = 50) -> list[Message]:
    rows = store.con.execute(
        "SELECT o.message_id, o.partner_id, o.url, o.payload, p.webhook_secret"
        " FROM webhook_outbox o JOIN partners p USING (partner_id)"
        " WHERE o.delivered_at IS NULL AND o.attempts < ? AND o.next_attempt_at <= ?"
        " ORDER BY o.created_at LIMIT ?",
        [MAX_ATTEMPTS, now_or(now), limit],
    ).fetchall()
    out = []
    for mid, partner, url, body, secret_blob in rows:
        secret = store.keys.decrypt("webhook", bytes(secret_blob))
        sig = hmac.new(secret.encode(), str(body).encode(), hashlib.sha256).hexdigest()
        out.append(Message(mid, partner, url, str(body), f"sha256={sig}"))
    return out


def mark_delivery(
    store: Store, message: Message, error: str | None, *, now: dt.datetime | None = None
) -> None:
    at = now_or(now)
    entry = AuditEntry(
        "credo", "webhook.delivered" if error is None else "webhook.failed",
        f"partner:{message.partner_id}", "notify partner",
        {"message_id": message.message_id, "error": error},
    )  # fmt: skip
    with store.write(entry) as con:
        if error is None:
            con.execute(
                "UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1,"
                " last_error = NULL WHERE message_id = ?",
                [at, message.message_id],
            )
        else:
            attempts = int(
                con.execute(
                    "SELECT attempts FROM webhook_outbox WHERE message_id = ?",
                    [message.message_id],
                ).fetchall()[0][0]
            )
            delay = dt.timedelta(seconds=min(3600, 30 * 2**attempts))
            con.execute(
                "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE message_id = ?",
                [error[:500], at + delay, message.message_id],
            )


def refused_host(url: str, hosts: tuple[str, ...]) -> str | None:
    """Why a webhook URL may not be called under the allow-list (``None``: it may); an empty
    list allows any host. Partner notices carry personal data: they go only where the
    operator said they may."""
    host = (urlsplit(url).hostname or "").lower()
    if not hosts or host in {h.lower() for h in hosts}:
        return None
    return f"host {host!r} is not on the webhook allow-list (webhook_hosts)"


def post_message(message: Message, *, timeout: float = 5.0) -> str | None:
    """One delivery attempt: ``None`` on a 2xx answer, else what went wrong."""
    import httpx

    try:
        response = httpx.post(
            message.url,
            content=message.body,
            headers={
                "content-type": "application/json",
                "x-credo-signature": message.signature,
                "x-credo-message-id": message.message_id,
            },
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.is_success else f"HTTP {response.status_code}"


def deliver_webhooks(
    store: Store,
    *,
    now: dt.datetime | None = None,
    post: Callable[[Message], str | None] = post_message,
) -> DeliveryReport:
    """Try every due notice once (for the CLI or a timer; the server runs it in a loop)."""
    delivered = failed = 0
    for message in due_messages(store, now=now):
        error = refused_host(message.url, store.settings.webhook_hosts) or post(message)
        mark_delivery(store, message, error, now=now)
        delivered += error is None
        failed += error is not None
    return DeliveryReport(delivered, failed)
