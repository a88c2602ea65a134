"""One JSON error shape for every error the API returns, validation errors and 404s included.

``{"error": {"type": ..., "status": ..., "message": ..., "hint": ..., "fields": [...]}}``;
a ``CredoError`` answers with its class's ``http_status``. Anything else is a bug: 500 with
no detail (the log has it).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, is_dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from credo.access import SignInLimitedError
from credo.api.refusals import partner_refusal
from credo.errors import CredoError

__all__ = ["ERROR_RESPONSES", "ErrorBody", "ErrorDetail", "FieldError", "aware", "install_handlers"]

log = logging.getLogger("credo.api")


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    type: str
    status: int
    message: str
    hint: str | None = None
    fields: list[FieldError] = []


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (401, "missing or invalid credentials"),
        (403, "not allowed: scope, consent, or not yours"),
        (404, "not found"),
        (409, "conflict"),
        (422, "invalid request"),
        (423, "the person's file is frozen"),
        (429, "too many failed sign-ins with this credential; see Retry-After"),
    )
}


def error_response(
    status: int,
    kind: str,
    message: str,
    hint: str | None = None,
    fields: list[FieldError] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=ErrorDetail(type=kind, status=status, message=message, hint=hint, fields=fields or [])
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(CredoError)
    async def _credo(request: Request, exc: CredoError) -> JSONResponse:
        refusal = partner_refusal(request, exc)
        if refusal is not None:
            await request.app.state.service.refused(*refusal)
        response = error_response(exc.http_status, type(exc).__name__, exc.message, exc.hint)
        if isinstance(exc, SignInLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            FieldError(
                field=".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
                message=str(e.get("msg", "invalid")),
            )
            for e in exc.errors()
        ]
        first = fields[0] if fields else FieldError(field="body", message="invalid")
        return error_response(
            422, "ValidationError", f"{first.field}: {first.message}", fields=fields
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", "internal error")


def aware(value: Any) -> Any:
    """Stored times are naive UTC; answers carry the zone (RFC 3339 ``date-time``)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
    if isinstance(value, dict):
        return {k: aware(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [aware(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return aware(asdict(value))
    return value
