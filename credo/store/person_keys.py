"""A key per person, so that what must outlive an erasure can be made unreadable by it
(crypto-shredding, docs/decisions/0643).

Some personal text has to stay where rows cannot be deleted: the audit log is hash-chained,
and removing or editing an entry breaks the chain. Such text (a reviewer's note, a dispute's
amendment, a court case number) is written **sealed**: AES-256-GCM under a random 32-byte key
of the person's own, the chain hashing the ciphertext. Erasure deletes the key, after which the
sealed text reads as erased while ``credo audit verify`` still passes (it never decrypts).

The person's key is itself stored wrapped under the identifier key (kept outside the database
file), so a copy of the file alone opens nothing.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import duckdb
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from credo.store.audit import AuditEntry
from credo.store.crypto import IdentifierKeys
from credo.store.db import Store, utcnow
from credo.store.rows import insert, value

__all__ = ["ERASED", "SEALED", "is_sealed", "person_key", "seal", "shred", "unseal"]

SEALED = "sealed"
"""The key of a details mapping's sealed part: ``{..., "sealed": "<base64 nonce+ciphertext>"}``;
ids that are not personal (a dispute's, a review's) stay beside it in clear."""

ERASED = {"erased": True}
"""What sealed details read as once the person's key is gone."""


def _wrap_aad(person_id: str) -> bytes:
    return f"credo person key:{person_id}".encode()


def person_key(
    con: duckdb.DuckDBPyConnection,
    keys: IdentifierKeys,
    person_id: str,
    *,
    create: bool,
    now: Any = None,
) -> bytes | None:
    """The person's key (made on first need when ``create``, inside the caller's transaction),
    or ``None`` when there is none: never made, or destroyed by an erasure."""
    wrapped = value(con, "SELECT key FROM person_keys WHERE person_id = ?", [person_id])
    aead = AESGCM(keys.aes_key)
    if wrapped is not None:
        blob = bytes(wrapped)
        return aead.decrypt(blob[:12], blob[12:], _wrap_aad(person_id))
    if not create:
        return None
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    row = {
        "person_id": person_id,
        "key": nonce + aead.encrypt(nonce, key, _wrap_aad(person_id)),
        "created_at": now,
    }
    insert(con, "person_keys", row)
    return key


def seal(store: Store, person_id: str, details: dict[str, Any]) -> dict[str, str]:
    """``details`` encrypted under the person's key, for an audit entry's details; the key is
    made on first need, in an audited write of its own (it holds no personal data)."""
    key = person_key(store.con, store.keys, person_id, create=False)
    if key is None:
        entry = AuditEntry("credo", "person_key.create", f"person:{person_id}", "sealing")
        with store.write(entry) as con:
            key = person_key(con, store.keys, person_id, create=True, now=utcnow())
    assert key is not None  # created above
    nonce = os.urandom(12)
    plain = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str).encode()
    blob = nonce + AESGCM(key).encrypt(nonce, plain, person_id.encode())
    return {SEALED: base64.b64encode(blob).decode()}


def is_sealed(details: dict[str, Any]) -> bool:
    return SEALED in details


def unseal(
    con: duckdb.DuckDBPyConnection, keys: IdentifierKeys, person_id: str, details: dict[str, Any]
) -> dict[str, Any]:
    """Details with their sealed part opened with the person's key, or marked :data:`ERASED`
    once the key is gone; the parts written in clear as they are."""
    if not is_sealed(details):
        return details
    clear = {k: v for k, v in details.items() if k != SEALED}
    key = person_key(con, keys, person_id, create=False)
    if key is None:
        return clear | ERASED
    blob = base64.b64decode(details[SEALED])
    plain = AESGCM(key).decrypt(blob[:12], blob[12:], person_id.encode())
    opened: dict[str, Any] = json.loads(plain)
    return clear | opened


def shred(con: duckdb.DuckDBPyConnection, person_id: str) -> bool:
    """Destroy the person's key inside the caller's transaction; whether there was one."""
    had = bool(value(con, "SELECT count(*) FROM person_keys WHERE person_id = ?", [person_id]))
    con.execute("DELETE FROM person_keys WHERE person_id = ?", [person_id])
    return had
