"""``POST /v1/decisions`` answered without the ASGI stack when it succeeds (docs/decisions/0964).

A decision that passes went through eight layers before this: Starlette's error middleware,
FastAPI's telemetry and body-limit middleware, our ``SecurityHeaders`` and ``BodyLimit``, the
exception middleware, FastAPI's exit stack, the router, each with its own ``send`` wrapper.
On the event loop's thread, which is what limits the server, they were ~59% of a decision's
working time (py-spy, session 6). :class:`CredoApp` answers the one hot route itself when
everything goes right, and hands every other case to the full stack, so every error keeps the
full stack's answer by construction:

- the key: only a key the service already knows (a dict look-up) with the ``decisions`` scope
  is taken; a missing, malformed, unknown, revoked or under-scoped key goes to the full
  stack before the body is read;
- the body: over the limit (declared or read), a disconnect, or a body that fails validation
  goes to the full stack with the messages read so far replayed, so it answers as before
  (413 from ``BodyLimit``, 422 from the route);
- the decision: an error of the decision itself (403 consent, 423 frozen, a failed commit, a
  bug) goes to the route in the full stack with the key and the error (``partner.DECIDED``),
  which raises it there: the same error document, refusal audit entry, log line and 500
  handling, without deciding twice.

A success is the route's answer: the same bytes (``decision_json``), the same headers in the
same order (``content-length``, ``content-type``, then what ``SecurityHeaders`` adds to this
path). While FastAPI's native telemetry is on (an OpenTelemetry provider configured), every
request takes the full stack, so none goes unrecorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

from credo.api.headers import headers_for
from credo.api.limits import declared_over
from credo.api.partner import (
    DECIDED,
    DECISIONS_SCOPE,
    DecisionRequest,
    decision_ask,
    decision_json,
)
from credo.api.refusals import PARTNER_KEY
from credo.api.service import Service

__all__ = ["LEAN_PATH", "CredoApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LEAN_PATH = "/v1/decisions"
_HEADERS = [(b"content-type", b"application/json"), *headers_for(LEAN_PATH)]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` as if nothing had been read: the messages read so far, then the rest."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class CredoApp(FastAPI):
    """FastAPI, with ``POST /v1/decisions`` answered here when it succeeds (see above).

    ``body_limit`` is ``BodyLimit``'s limit (the app's ``max_body_bytes``); ``stack`` is the
    full stack alone, which tests compare this path's answers with."""

    body_limit: int = 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == LEAN_PATH
            and scope["method"] == "POST"
            and not scope.get("root_path")
            and not self.root_path
        ):
            await self._decision(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The full ASGI stack, as every other request has it."""
        await super().__call__(scope, receive, send)

    def _telemetry_on(self) -> bool:
        telemetry = getattr(self, "_native_telemetry", None)
        return telemetry is not None and bool(telemetry.enabled())

    async def _decision(self, scope: Scope, receive: Receive, send: Send) -> None:
        svc: Service | None = getattr(self.state, "service", None)
        key = None
        if svc is not None and not self._telemetry_on():
            for name, value in scope["headers"]:
                if name == b"authorization":  # the first, as Starlette's Headers.get
                    scheme, _, credentials = value.decode("latin-1").partition(" ")
                    credentials = credentials.strip()
                    if scheme.lower() == "bearer" and credentials:
                        key = svc.known_key(credentials)
                    break
        limit = self.body_limit
        if (
            svc is None
            or key is None
            or DECISIONS_SCOPE not in key.scopes
            or declared_over(scope, limit)
        ):
            await self.stack(scope, receive, send)
            return
        scope["app"] = self
        scope[PARTNER_KEY] = key
        messages: list[Message] = []
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                await self.stack(scope, _replay(messages, receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self.stack(scope, _replay(messages, receive), send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        try:
            body = DecisionRequest.model_validate_json(b"".join(chunks))
        except Exception:  # a ValidationError, or anything the route then meets the same way
            await self.stack(scope, _replay(messages, receive), send)
            return
        try:
            answer = decision_json(await svc.decide(decision_ask(key, body)))
        except Exception as exc:  # the route answers it, as it answers its own errors
            scope[DECIDED] = (key, exc)
            await self.stack(scope, _replay(messages, receive), send)
            return
        headers = [(b"content-length", str(len(answer)).encode()), *_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
