"""Keyed hashing and encryption of identifiers (national id numbers, phone numbers).

Identifiers are matched by a keyed hash (HMAC-SHA256): equal identifiers give equal hashes,
but without the key nobody can test a guessed number against the database, as they could
against a plain hash of an 18-digit id. Where a number must be shown back (the person's own
file), its AES-256-GCM ciphertext is kept once per distinct value in ``pii_vault``. Both keys
derive from one 32-byte secret (HKDF), kept outside the database file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from credo.errors import ConfigError, IntegrityError

__all__ = ["HASH_HEX_CHARS", "IdentifierKeys", "load_or_create_secret", "normalize_identifier"]

_NON_DIGITS = re.compile(r"[^0-9]")
HASH_HEX_CHARS = 32
"""HMAC-SHA256 truncated to 128 bits: collision-free in practice for billions of identifiers,
and half the width to store, compare and join (measured: inserts twice as fast)."""


def normalize_identifier(kind: str, value: str) -> str:
    """The canonical form both hashing and display use: sources write numbers differently.

    ``normalize_sql`` is the same function in SQL; a property test holds them equal.
    """
    if kind == "phone":
        digits = _NON_DIGITS.sub("", value)
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        return digits
    return value.replace(" ", "").replace("x", "X")


def normalize_sql(kind: str, expr: str) -> str:
    if kind == "phone":
        d = f"regexp_replace({expr}, '[^0-9]', '', 'g')"
        return (
            f"CASE WHEN length({d}) = 13 AND starts_with({d}, '86') THEN substr({d}, 3) "
            f"ELSE {d} END"
        )
    return f"replace(replace({expr}, ' ', ''), 'x', 'X')"


def load_or_create_secret(key_file: Path, secret_hex: str | None, *, create: bool) -> bytes:
    if secret_hex is not None:
        try:
            secret = bytes.fromhex(secret_hex)
        except ValueError:
            secret = b""
        if len(secret) != 32:
            raise ConfigError("CREDO_SECRET_KEY must be 64 hexadecimal characters (32 bytes)")
        return secret
    if key_file.exists():
        secret = key_file.read_bytes()
        if len(secret) != 32:
            raise ConfigError(f"key file {key_file} is damaged: it must hold exactly 32 bytes")
        return secret
    if not create:
        raise ConfigError(
            f"key file {key_file} is missing: identifiers in this database cannot be matched",
            hint="restore the key file or set CREDO_SECRET_KEY",
        )
    secret = secrets.token_bytes(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret


def _derive(secret: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)


@dataclass(frozen=True)
class IdentifierKeys:
    hmac_key: bytes
    aes_key: bytes

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(self.aes_key)

    @classmethod
    def from_secret(cls, secret: bytes) -> IdentifierKeys:
        return cls(_derive(secret, b"credo identifier hmac v1"), _derive(secret, b"credo pii v1"))

    def fingerprint(self) -> str:
        """Identifies the key (not secret) so a database can refuse the wrong one."""
        return hmac.new(self.hmac_key, b"credo key fingerprint", hashlib.sha256).hexdigest()[:16]

    def hash(self, kind: str, value: str) -> str:
        msg = f"{kind}:{normalize_identifier(kind, value)}".encode()
        return hmac.new(self.hmac_key, msg, hashlib.sha256).hexdigest()[:HASH_HEX_CHARS]

    def hash_sql(self, kind: str, expr: str) -> tuple[str, list[bytes]]:
        """HMAC-SHA256 as a DuckDB expression, so millions of rows hash in the engine.

        The key enters as two bound parameters (the padded inner and outer keys), never as
        text in the statement.
        """
        padded = self.hmac_key.ljust(64, b"\0")
        inner = bytes(b ^ 0x36 for b in padded)
        outer = bytes(b ^ 0x5C for b in padded)
        msg = f"encode('{kind}:' || {normalize_sql(kind, expr)})"
        full = f"sha256(CAST(? AS BLOB) || unhex(sha256(CAST(? AS BLOB) || {msg})))"
        sql = f"substr({full}, 1, {HASH_HEX_CHARS})"
        return sql, [outer, inner]

    def encrypt(self, kind: str, value: str, *, normalize: bool = True) -> bytes:
        """AES-GCM with ``kind`` as associated data; identifiers are normalised first, other
        values (a protected attribute) are sealed exactly as given with ``normalize=False``."""
        nonce = os.urandom(12)
        plain = (normalize_identifier(kind, value) if normalize else value).encode()
        return nonce + self._aead.encrypt(nonce, plain, kind.encode())

    def encrypt_many(
        self, kinds: list[str], values: list[str], *, normalized: bool = False
    ) -> list[bytes]:
        """``encrypt`` of each identifier, with its own random nonce, as one call: a load
        encrypts every new identifier at once (500k for the 10M-row benchmark). One read of the
        random source gives all nonces, and the cipher runs over ``map``, not a Python loop:
        the per-value Python work is what this costs (docs/decisions/0991).
        ``normalized``: the values are already canonical (the load normalises them in SQL with
        ``normalize_sql``), so they are sealed as given."""
        if len(kinds) != len(values):
            raise ValueError("one kind per value")
        n = len(values)
        random = os.urandom(12 * n)
        nonces = [random[i : i + 12] for i in range(0, 12 * n, 12)]
        plains = values if normalized else list(map(normalize_identifier, kinds, values))
        aads = {kind: kind.encode() for kind in set(kinds)}
        sealed = map(
            self._aead.encrypt, nonces, map(str.encode, plains), map(aads.__getitem__, kinds)
        )
        return list(map(bytes.__add__, nonces, sealed))

    def decrypt(self, kind: str, blob: bytes) -> str:
        try:
            return self._aead.decrypt(blob[:12], blob[12:], kind.encode()).decode()
        except Exception as exc:  # InvalidTag: the ciphertext or the key is not the right one
            raise IntegrityError(f"an encrypted {kind} cannot be decrypted with this key") from exc
