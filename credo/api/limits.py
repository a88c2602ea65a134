"""A request body size limit, answered in the API's one error shape (issue 17, item 9;
docs/decisions/0621).

:class:`BodyLimit`, a pure ASGI middleware: a body over ``max_body_bytes`` is answered 413
before the route reads it: at once when ``Content-Length`` says so, else as soon as the chunks
read pass the limit (a chunked body), so a 50 MB body is never held whole. What the HTTP server
refuses before the app sees a request is :mod:`credo.api.protocol`'s.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

__all__ = ["BodyLimit", "declared_over", "error_bytes"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def error_bytes(status: int, message: str, hint: str | None = None) -> bytes:
    """The error shape's body (``credo.api.errors``), for answers made outside FastAPI."""
    body = {"type": "HTTPError", "status": status, "message": message, "hint": hint,
            "fields": []}  # fmt: skip
    return json.dumps({"error": body}).encode()


def declared_over(scope: Scope, limit: int) -> bool:
    """Whether a ``Content-Length`` header says the body is over ``limit``: answered at once."""
    return any(
        name == b"content-length" and value.isdigit() and int(value) > limit
        for name, value in scope["headers"]
    )


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"request body over {limit:,} bytes")


class BodyLimit:
    """Refuse a request body over ``limit`` bytes with 413, in the error shape."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_over(scope, self.limit):
            body = error_bytes(413, f"request body over {self.limit:,} bytes")
            headers = [(b"content-type", b"application/json"), (b"connection", b"close"),
                       (b"content-length", str(len(body)).encode())]  # fmt: skip
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # FastAPI answers an HTTPException in the error shape
                raise _too_large(self.limit)
            return message

        await self.app(scope, counted, send)
