"""The console's partners: register one, give it an API key, revoke a key (as ``credo
partners`` does). A new key or webhook secret is shown once, in the partners section beside
the form that made it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from credo.access import SCOPES, create_key, create_partner
from credo.dashboard.backend import backend
from credo.dashboard.forms import form_guard
from credo.dashboard.pages import FormText, operator_action

__all__ = ["router"]

# Every post passes the same-site and CSRF checks before its route runs, as the pages' do.
router = APIRouter(include_in_schema=False, dependencies=[Depends(form_guard)])


@router.post("/console/partners")
def console_add_partner(
    request: Request, partner_id: FormText, name: FormText, webhook_url: FormText = ""
) -> Response:
    def go(store: Any) -> dict[str, Any]:
        url = webhook_url.strip() or None
        made = create_partner(store, partner_id.strip(), name.strip(), webhook_url=url,
                              actor="operator")  # fmt: skip
        return {"partner_made": made}

    return operator_action(request, go, "", "partners")


@router.post("/console/partners/{partner_id}/keys")
def console_create_key(
    request: Request, partner_id: str, scopes: Annotated[list[str] | None, Form()] = None
) -> Response:
    def go(store: Any) -> dict[str, Any]:
        key = create_key(store, partner_id, scopes or list(SCOPES), actor="operator")
        return {"key_made": key}

    return operator_action(request, go, "", "partners")


@router.post("/console/keys/{key_id}/revoke")
def console_revoke_key(request: Request, key_id: str) -> Response:
    """Through the service, which also forgets the key it had checked before."""

    def go(_store: Any) -> None:
        backend(request).revoke_key(key_id)

    return operator_action(request, go, "revoked", "partners", locked=False)
