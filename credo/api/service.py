"""The one object the app holds: the store, the lock that serialises its use, the products.

DuckDB allows one writing process and one connection here, and nearly every request writes
(an audit entry per read of personal data), so every use of the store takes one lock, as
datasette funnels writes through one thread. Handlers are plain ``def``: FastAPI runs them in
its thread pool while the event loop keeps accepting connections.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from credo.api.settings import ApiSettings
from credo.policy.products import ProductsPolicy, load_products
from credo.rights.errors import AuthError
from credo.settings import Settings
from credo.store.db import Store

__all__ = ["Service", "load_admin_token"]

P = ParamSpec("P")
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

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call a library function with the store to itself."""
        with self.lock:
            return fn(*args, **kwargs)

    def check_admin(self, token: str | None) -> None:
        if token is None or not hmac.compare_digest(token, self.admin_token):
            raise AuthError("invalid admin token")

    def close(self) -> None:
        with self.lock:
            self.store.close()
