"""Commands beside a running server: when ``credo serve`` holds the database, go through it.

DuckDB lets one process write a database file and no other process open it, not even to read,
while that writer holds it. ``credo serve`` leaves a marker beside the database naming its
address; a command refused by the lock finds the server there and makes the same call through
the operator's API with the admin token kept beside the database (decision 0631). Without a
marker, or a token, the lock's own error stands: it says who holds the file and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from credo.cli._common import open_store, settings_for
from credo.errors import (
    AccessError,
    ConflictError,
    CredoError,
    InputError,
    NotFoundError,
    StoreLockedError,
)

if TYPE_CHECKING:
    from credo.client import AdminClient, CredoAPIError
    from credo.store.db import Store

__all__ = ["server_admin", "store_or_server"]

T = TypeVar("T")
_BY_STATUS: dict[int, type[CredoError]] = {
    400: InputError, 401: AccessError, 403: AccessError, 404: NotFoundError,
    409: ConflictError, 422: InputError, 423: AccessError,
}  # fmt: skip


def server_admin(db: Path | None) -> AdminClient | None:
    """An operator's client for the ``credo serve`` that holds this database, if any."""
    from credo.api.settings import ApiSettings
    from credo.client import AdminClient
    from credo.store.db import serving_marker

    settings = settings_for(db)
    try:
        url = str(json.loads(serving_marker(settings.db).read_text())["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    api = ApiSettings(**{})
    token_file = api.admin_token_file or settings.db.with_suffix(".admin-token")
    token = api.admin_token or (token_file.read_text().strip() if token_file.exists() else "")
    return AdminClient(url, token) if token else None


def _translated(exc: CredoAPIError) -> CredoError:
    return _BY_STATUS.get(exc.status, CredoError)(exc.message, hint=exc.hint)


def store_or_server(
    db: Path | None, local: Callable[[Store], T], remote: Callable[[AdminClient], T]
) -> T:
    """``local(store)`` on the database, or ``remote(admin)`` through the server holding it."""
    import httpx

    from credo.client import CredoAPIError

    try:
        store = open_store(db)
    except StoreLockedError as locked:
        admin = server_admin(db)
        if admin is None:
            raise
        with admin:
            try:
                return remote(admin)
            except CredoAPIError as exc:
                raise _translated(exc) from None
            except httpx.HTTPError:
                raise locked from None
    with store:
        return local(store)
