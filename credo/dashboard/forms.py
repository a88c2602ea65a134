"""The checks every form post passes before its route runs: same site, and a CSRF token.

Beside ``SameSite=Strict`` cookies, a post must (1) come from this site: its ``Origin``, else
its ``Referer``, names this host (``Origin: null`` or neither is refused, never taken as
same-site), and (2) carry the page's CSRF token: a signed double-submit token, the field
``csrf`` holding the HMAC (under the store's key) of a random ``credo_csrf`` cookie that every
page sets. Another site can neither read the cookie nor, without the key, make the field from
a cookie it managed to plant. A refused form is answered in the API's error shape and audited
(grouped, docs/decisions/0620) with who sent it, the route and the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from credo.dashboard.backend import backend
from credo.errors import AccessError, AuthError, ForbiddenError

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "csrf_token", "form_guard", "keep_csrf_cookie"]

CSRF_COOKIE = "credo_csrf"
CSRF_FIELD = "csrf"
CROSS_SITE = "not sent from this site"
_SAFE = ("GET", "HEAD", "OPTIONS")


def csrf_token(request: Request) -> tuple[str, str | None]:
    """The token for this page's forms, and a new cookie value when the browser has none."""
    cookie = request.cookies.get(CSRF_COOKIE)
    fresh = None if cookie else secrets.token_urlsafe(32)
    return _sign(request, cookie or str(fresh)), fresh


def keep_csrf_cookie(request: Request, response: Response, fresh: str | None) -> None:
    if fresh is not None:
        response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")  # fmt: skip


def _sign(request: Request, cookie: str) -> str:
    key = backend(request).store.keys.hmac_key
    return hmac.new(key, f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


def _cross_site(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    return origin == "null" or urlsplit(origin).netloc != request.headers.get("host", "")


async def _bad_token(request: Request) -> str | None:
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = (await request.form()).get(CSRF_FIELD)
    if not cookie or not isinstance(sent, str) or not sent:
        return "missing CSRF token"
    if not hmac.compare_digest(sent, _sign(request, cookie)):
        return "wrong CSRF token"
    return None


def _sender(request: Request) -> str:
    """Who the refused form claims to come from, as far as its cookies show (unverified)."""
    if request.url.path.startswith("/console"):
        return "operator" if request.cookies.get("credo_operator") else "anonymous"
    token = request.cookies.get("credo_session")
    if token:
        try:
            return f"person:{backend(request).verify_session(token)}"
        except AuthError:
            pass
    return "anonymous"


async def form_guard(request: Request) -> None:
    """Refuse an unsafe request that fails either check (a dependency of every page route)."""
    if request.method in _SAFE:
        return
    reason = CROSS_SITE if _cross_site(request) else await _bad_token(request)
    if reason is None:
        return
    await backend(request).form_refused(request, _sender(request), reason)
    error: AccessError
    if reason == CROSS_SITE:
        error = AuthError(
            "this form was not sent from this site",
            hint="send the form from Credo's own page (its Origin or Referer names this host)",
        )
    else:
        error = ForbiddenError(
            f"this form's {reason}", hint="reload the page and send the form again"
        )
    raise error
