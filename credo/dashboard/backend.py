"""What the pages use of the service that mounts them, read from ``request.app.state``.

The API's app keeps its one :class:`credo.api.service.Service` in ``app.state.service``; the
pages reach it there, as the API's own dependencies do, and see it through this protocol, so
the dashboard imports nothing of :mod:`credo.api` (a lower room never imports the one that
mounts it). ``credo/api/app.py`` checks that the service fits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from fastapi import Request

from credo.policy.products import ProductsPolicy
from credo.rights.erasure import RightsRequest
from credo.sessions import SessionEnds
from credo.settings import Settings
from credo.store.db import Store

__all__ = ["Backend", "backend"]

P = ParamSpec("P")
T = TypeVar("T")


class SessionSettings(Protocol):
    @property
    def session_minutes(self) -> int: ...
    @property
    def privacy_contact(self) -> str: ...


class Backend(Protocol):
    """The store and its lock, the products, and the sign-in checks the pages share with the
    API (so a failed sign-in counts the same through either, a signed-out session ends for
    both, and a refused form is audited as a refused request is)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def api(self) -> SessionSettings: ...
    @property
    def store(self) -> Store: ...
    @property
    def products(self) -> ProductsPolicy: ...
    @property
    def admin_token(self) -> str: ...
    @property
    def sessions(self) -> SessionEnds: ...

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T: ...
    def sign_in(self, person_id: str, code: str, ttl: dt.timedelta) -> str: ...
    def check_admin(self, token: str | None) -> None: ...
    def verify_session(self, token: str) -> str: ...
    def end_sessions(self, subject: str, actor: str, reason: str) -> None: ...
    async def form_refused(self, request: Request, actor: str, reason: str) -> None: ...
    def revoke_key(self, key_id: str) -> None: ...
    def erase(self, person_id: str, actor: str | None = None) -> RightsRequest: ...


def backend(request: Request) -> Backend:
    """The service of the app serving ``request``."""
    svc: Backend = request.app.state.service
    return svc
