"""Security headers on every answer: pages and JSON alike hold personal data (issue 17).

A pure ASGI middleware (a few header tuples appended to the response start, no request body
touched), so the decision route pays microseconds, not a ``BaseHTTPMiddleware`` task.

- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
  same-origin`` everywhere (not ``no-referrer``: under it a browser sends ``Origin: null`` with
  a form, which the pages' same-site check refuses);
- ``Cache-Control: no-store`` on everything but the static assets (fonts, CSS, the script),
  which hold nothing personal;
- a ``Content-Security-Policy`` that allows only Credo's own assets and no inline script or
  style (the pages use none), except on the OpenAPI pages (``/docs``, ``/redoc``), whose
  viewers FastAPI builds with inline scripts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["CSP", "SecurityHeaders", "headers_for"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
    " frame-ancestors 'none'; form-action 'self'"
)
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
_NO_STORE = [(b"cache-control", b"no-store")]
_POLICY = [(b"content-security-policy", CSP.encode())]
_OPENAPI_PAGES = ("/docs", "/redoc")


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """What an answer on ``path`` gets (the decisions' lean path adds them itself, 0964)."""
    if path.startswith("/static/"):
        return _ALWAYS
    if path.startswith(_OPENAPI_PAGES):
        return _ALWAYS + _NO_STORE
    return _ALWAYS + _NO_STORE + _POLICY


class SecurityHeaders:
    """Adds the headers above unless the route set one of them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(str(scope["path"]))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
