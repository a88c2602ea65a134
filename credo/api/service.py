"""The one object the app holds: the store, the lock that serialises its use, the products.

DuckDB allows one writing process and one connection here, and nearly every request writes
(an audit entry per read of personal data), so every use of the store takes one lock, as
datasette funnels writes through one thread. Handlers are plain ``def``: FastAPI runs them in
its thread pool while the event loop keeps accepting connections.

Every partner call authenticates its API key, so keys that passed are remembered (by the hash
of the whole key, never the key) until any key is revoked through the service; the server is
the only process that can write the database while it runs, so nothing else can revoke one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from credo.api.settings import ApiSettings
from credo.policy.products import ProductsPolicy, load_products
from credo.rights.access import ApiKey, authenticate_key, record_failed_auth, revoke_key
from credo.rights.errors import AuthError
from credo.settings import Settings
from credo.store.db import Store

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
        self._keys: dict[str, ApiKey] = {}

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call a library function with the store to itself."""
        with self.lock:
            return fn(*args, **kwargs)

    def authenticate(self, key: str) -> ApiKey:
        """The API key's partner and scopes (remembered once it passed), or ``AuthError``."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        known = self._keys.get(digest)
        if known is not None:
            return known
        with self.lock:  # revoke_key clears the cache under the same lock: no stale entry
            found = authenticate_key(self.store, key)
            if len(self._keys) >= _MAX_KEYS:
                self._keys.clear()
            self._keys[digest] = found
            return found

    def revoke_key(self, key_id: str) -> None:
        with self.lock:
            revoke_key(self.store, key_id)
            self._keys.clear()

    def check_admin(self, token: str | None) -> None:
        if token is None or not hmac.compare_digest(token, self.admin_token):
            reason = "missing admin token" if token is None else "wrong admin token"
            self.run(record_failed_auth, self.store, "admin_token", reason)
            raise AuthError("invalid admin token")

    def close(self) -> None:
        with self.lock:
            self.store.close()
