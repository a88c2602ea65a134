"""Authentication dependencies, one per audience (all read ``Authorization: Bearer ...``)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from credo.access import ApiKey, RefusedKeyError, key_id_of, record_failed_auth
from credo.api.refusals import PARTNER_KEY, REFUSAL_REASON
from credo.api.service import Service
from credo.errors import AuthError, ForbiddenError

__all__ = ["Caller", "PartnerKey", "admin", "partner", "person", "service"]

_session = HTTPBearer(auto_error=False, scheme_name="PersonSession", description="session token")
_admin = HTTPBearer(auto_error=False, scheme_name="AdminToken", description="admin token")
Bearer = HTTPAuthorizationCredentials | None


async def service(request: Request) -> Service:
    # async, as every dependency of the async decision route: a plain def would cost a
    # thread-pool hop per request
    svc: Service = request.app.state.service
    return svc


Svc = Annotated[Service, Depends(service)]


class PartnerKey(HTTPBearer):
    """A partner's API key with one scope, checked as one dependency: FastAPI resolves each
    dependency at a cost, and the decision route is the hot path (docs/decisions/0612). As an
    ``HTTPBearer`` it still documents the ``PartnerKey`` scheme in the OpenAPI."""

    def __init__(self, scope: str) -> None:
        super().__init__(auto_error=False, scheme_name="PartnerKey", description="API key")
        self.scope = scope

    async def __call__(self, request: Request) -> ApiKey:  # type: ignore[override]
        cred = await super().__call__(request)
        if cred is None:
            raise AuthError("missing API key", hint="send 'Authorization: Bearer <key>'")
        svc: Service = request.app.state.service
        # A known key costs a dict look-up; checking a new one reads the store under its lock,
        # which must not block the event loop.
        key = svc.known_key(cred.credentials)
        if key is None:
            claimed = key_id_of(cred.credentials)
            request.scope[PARTNER_KEY] = f"api_key:{claimed}" if claimed else None
            try:
                key = await asyncio.to_thread(svc.authenticate, cred.credentials)
            except RefusedKeyError as exc:  # the caller learns only "invalid", the audit why
                request.scope[PARTNER_KEY] = exc.claimed
                request.scope[REFUSAL_REASON] = exc.reason
                raise AuthError(exc.message) from None
        request.scope[PARTNER_KEY] = key  # a refusal's audit entry names it (0620)
        if self.scope not in key.scopes:
            raise ForbiddenError(f"this API key lacks the scope {self.scope!r}")
        return key


def partner(scope: str) -> PartnerKey:
    return PartnerKey(scope)


def person(svc: Svc, cred: Annotated[Bearer, Depends(_session)]) -> str:
    if cred is None:
        raise AuthError("missing session token", hint="sign in at POST /v1/me/session")
    try:
        return svc.verify_session(cred.credentials)
    except AuthError as exc:
        svc.run(record_failed_auth, svc.store, "session", exc.message)
        raise


def admin(svc: Svc, cred: Annotated[Bearer, Depends(_admin)]) -> str:
    svc.check_admin(cred.credentials if cred else None)
    return "admin"


class Caller:
    """Annotated shortcuts for route signatures."""

    Person = Annotated[str, Depends(person)]
    Admin = Annotated[str, Depends(admin)]
