"""The pages: HTML forms over the library, one router mounted by :func:`credo.api.create_app`.

Sign-in is the API's: a person exchanges the operator's one-time login code for the same signed
session token ``POST /v1/me/session`` gives, kept in an HttpOnly cookie; the operator signs in
with the admin token and gets a signed, expiring operator cookie (the token itself never
travels again). Cookies are ``SameSite=Strict``, so another site cannot post a form with them,
and every post also passes the same-site and CSRF checks of :mod:`credo.dashboard.forms`.
Signing out ends the session on the server (:mod:`credo.sessions`), not only the cookie. A form
that succeeds redirects (303) to the page, so reloading never repeats it; one that fails shows
the page again with the error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from credo.access import LOGIN_CODE_TTL, SignInLimitedError, issue_login_code, record_failed_auth
from credo.dashboard import charts
from credo.dashboard.backend import Backend, backend
from credo.dashboard.demo import DEMO_CODE_TTL
from credo.dashboard.formats import FILTERS
from credo.dashboard.forms import csrf_token, form_guard, keep_csrf_cookie
from credo.dashboard.views import console_view, person_view, privacy_view
from credo.errors import AuthError, CredoError, InputError, NotFoundError
from credo.identity.review import accept_review, reject_review
from credo.purposes import PURPOSE_LABELS
from credo.rights.audited import person_exists
from credo.rights.consent import freeze, record_consent, unfreeze
from credo.rights.disputes import open_dispute, resolve_dispute
from credo.rights.erasure import lift_restriction, restrict
from credo.rights.export import access_export, export_bytes
from credo.rights.requests import decide_objection, extend_request, object_to_processing
from credo.rights.reviews import decide_review
from credo.sessions import now_ms

__all__ = [
    "STATIC",
    "FormText",
    "console_page_of",
    "operator_action",
    "operator_or_login",
    "router",
]

HERE = Path(__file__).parent
STATIC = HERE / "static"
PERSON_COOKIE = "credo_session"
OPERATOR_COOKIE = "credo_operator"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(charts=charts, band_class=charts.band_class)
templates.env.filters.update(FILTERS)
# What the sign-in page says of a code's life, from the values that set it (no second figure).
templates.env.globals.update(
    code_minutes=int(LOGIN_CODE_TTL.total_seconds() // 60),
    demo_code_hours=int(DEMO_CODE_TTL.total_seconds() // 3600),
)
# Every post passes the same-site and CSRF checks before its route runs (forms.py).
router = APIRouter(include_in_schema=False, dependencies=[Depends(form_guard)])

DONE = {
    "dispute": "Your dispute is open: the item is marked disputed until the operator decides.",
    "grant": "Consent granted.",
    "revoke": "Consent revoked: that partner gets no new decision or report about you.",
    "enrol": "You are enrolled: you will be scored each month.",
    "leave": "You left: you will not be scored from next month.",
    "freeze": "Your file is frozen: no partner gets a new decision or report.",
    "unfreeze": "Your file is no longer frozen.",
    "resolved": "Dispute resolved.",
    "review": "Review item decided.",
    "audit": "The whole audit chain was walked again.",
    "ended": "The person's sessions were ended: each must sign in again.",
    "human": "Review outcome recorded: the person sees it with your reasons.",
    "objection": "Objection assessed: the person sees the outcome with your grounds.",
    "extended": "Deadline extended: the person sees the new date and your reasons.",
    "objected": "Your objection is recorded: processing is restricted until it is assessed.",
}
DONE_AT = {
    "dispute": "disputes", "grant": "consents", "revoke": "consents", "enrol": "consents",
    "leave": "consents", "freeze": "freeze", "unfreeze": "freeze", "resolved": "disputes",
    "review": "reviews", "audit": "audit", "ended": "codes", "human": "requests",
    "objection": "requests", "extended": "requests", "objected": "erasure",
}  # fmt: skip
"""The section each confirmation shows in: the one holding the form, where the page lands."""
FormText = Annotated[str, Form()]  # a form field; a default makes it optional


def _signed_in(request: Request, to: str, cookie: str, value: str, seconds: int) -> Response:
    """Redirect to ``to`` holding the credential: HttpOnly, SameSite=Strict, Secure on HTTPS."""
    response = _see(to)
    response.set_cookie(cookie, value, max_age=seconds, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")  # fmt: skip
    return response


def _signed_out(to: str, cookie: str) -> Response:
    response = _see(to)
    response.delete_cookie(cookie)
    return response


def _page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    done = request.query_params.get("done")
    csrf, fresh = csrf_token(request)
    context = {"done": DONE.get(done or ""), "done_at": DONE_AT.get(done or ""), "error": None,
               "error_at": None, "csrf": csrf, **context}  # fmt: skip
    page = templates.TemplateResponse(request, name, context, status_code=status_code)
    keep_csrf_cookie(request, page, fresh)
    return page


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# -- the person -----------------------------------------------------------------------------
def _person(request: Request) -> str | None:
    token = request.cookies.get(PERSON_COOKIE)
    if not token:
        return None
    svc = backend(request)
    try:
        return svc.verify_session(token)
    except AuthError as exc:
        svc.run(record_failed_auth, svc.store, "session", exc.message)
        return None


def _person_page(
    request: Request,
    me: str,
    error: CredoError | None = None,
    status_code: int = 200,
    at: str | None = None,
) -> HTMLResponse:
    svc = backend(request)
    kind = request.query_params.get("type") or None
    text = request.query_params.get("q") or None
    view = svc.run(person_view, svc.store, me, event_type=kind, text=text)
    view["purposes"] = list(PURPOSE_LABELS.items())  # every purpose a partner may ask for
    if error is not None:
        view["error"] = error.message
        view["error_at"] = at  # shown in the form's section, where the page lands
        status_code = error.http_status
    return _page(request, "person.html", view, status_code)


@router.get("/")
def home(request: Request) -> Response:
    return _see("/me" if _person(request) else "/login")


@router.get("/privacy")
def privacy(request: Request) -> HTMLResponse:
    """The privacy notice (PIPL Art. 17, GDPR Arts. 13-14): who processes, why, what, how long,
    and how to use one's rights, with the active rules profile's figures; open to anyone, in
    English or Chinese."""
    svc = backend(request)
    lang = _privacy_language(request)
    view = privacy_view(svc.settings, svc.api.privacy_contact, lang)
    return _page(request, "privacy_zh.html" if lang == "zh" else "privacy.html", view)


def _privacy_language(request: Request) -> str:
    """``zh`` when asked (``?lang=zh``), or when the browser's first language is Chinese."""
    asked = request.query_params.get("lang")
    if asked in ("en", "zh"):
        return asked
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html", {"person": ""})


@router.post("/login")
def login(request: Request, person: FormText, code: FormText) -> Response:
    svc = backend(request)
    ttl = dt.timedelta(minutes=svc.api.session_minutes)
    try:
        # The service's sign-in counts failures: 5 a minute per person, then 429 (0611).
        token = svc.sign_in(person.strip(), code.strip(), ttl)
    except CredoError as exc:
        message = (
            f"{exc.message} ({exc.hint})" if isinstance(exc, SignInLimitedError) else exc.message
        )
        context = {"person": person, "error": message}
        page = _page(request, "login.html", context, status_code=exc.http_status)
        if isinstance(exc, SignInLimitedError):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    return _signed_in(request, "/me", PERSON_COOKIE, token, int(ttl.total_seconds()))


@router.post("/logout")
def logout(request: Request) -> Response:
    """Sign out on the server too: the session ends for the API as for the pages."""
    me = _person(request)
    if me is not None:
        backend(request).end_sessions(f"person:{me}", f"person:{me}", "sign-out")
    return _signed_out("/login", PERSON_COOKIE)


@router.get("/me")
def me_page(request: Request) -> Response:
    me = _person(request)
    if me is None:
        return _see("/login")
    return _person_page(request, me)


def _person_action(request: Request, action: Any, *args: Any, done: str, anchor: str) -> Response:
    me = _person(request)
    if me is None:
        return _see("/login")
    svc = backend(request)
    try:
        svc.run(action, svc.store, me, *args)
    except CredoError as exc:
        return _person_page(request, me, exc, at=anchor)
    return RedirectResponse(f"/me?done={done}#{anchor}", status_code=303)


@router.post("/me/disputes")
def dispute(
    request: Request, event_id: FormText, statement: FormText, evidence: FormText = ""
) -> Response:
    try:
        target = int(event_id)
    except ValueError:
        target = 0

    def go(store: Any, me: str) -> None:
        if target <= 0:
            raise InputError(f"field event_id: {event_id!r} is not an event number")
        open_dispute(store, me, target, statement.strip(), evidence.strip() or None)

    return _person_action(request, go, done="dispute", anchor="disputes")


@router.post("/me/consents")
def consent(
    request: Request, action: FormText, partner: FormText = "", purpose: FormText = ""
) -> Response:
    def go(store: Any, me: str) -> None:
        if action not in ("enrol", "leave", "grant", "revoke"):
            raise InputError(f"field action: unknown consent action {action!r}")
        record_consent(store, me, action, partner=partner or None, purpose=purpose or None)  # type: ignore[arg-type]

    return _person_action(request, go, done=action, anchor="consents")


@router.post("/me/freeze")
def freeze_form(request: Request, action: FormText) -> Response:
    def go(store: Any, me: str) -> None:
        if action == "freeze":
            freeze(store, me)
        elif action == "unfreeze":
            unfreeze(store, me)
        else:
            raise InputError(f"field action: {action!r} is neither freeze nor unfreeze")

    return _person_action(request, go, done=action, anchor="freeze")


@router.post("/me/restriction")
def restriction_form(request: Request, action: FormText) -> Response:
    def go(store: Any, me: str) -> None:
        if action == "restrict":
            restrict(store, me)
        elif action == "lift":
            lift_restriction(store, me)
        else:
            raise InputError(f"field action: {action!r} is neither restrict nor lift")

    return _person_action(request, go, done=action, anchor="erasure")


@router.post("/me/objections")
def objection_form(request: Request, grounds: FormText = "") -> Response:
    """Object to the processing (GDPR Art. 21): restricted at once until the operator decides."""

    def go(store: Any, me: str) -> None:
        object_to_processing(store, me, grounds)

    return _person_action(request, go, done="objected", anchor="erasure")


@router.get("/me/export")
def export_file(request: Request) -> Response:
    """The person's data as one JSON file, as ``GET /v1/me/export`` gives it (R-GDPR-2,
    R-PIPL-4)."""
    me = _person(request)
    if me is None:
        return _see("/login")
    svc = backend(request)
    export = svc.run(access_export, svc.store, me, contact=svc.api.privacy_contact)
    return Response(
        export_bytes(export), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="credo-export-{me}.json"'},
    )  # fmt: skip


@router.post("/me/erasure")
def erasure_form(request: Request, confirm: FormText = "") -> Response:
    """Erase the person's data; the form asks them to type ``erase`` first, as it cannot be
    undone."""
    me = _person(request)
    if me is None:
        return _see("/login")
    if confirm.strip().lower() != "erase":
        error = InputError("field confirm: type erase to confirm; nothing was erased")
        return _person_page(request, me, error)
    try:
        backend(request).erase(me)
    except CredoError as exc:
        return _person_page(request, me, exc)
    return RedirectResponse("/me?done=erase#erasure", status_code=303)


# -- the operator ---------------------------------------------------------------------------
_OPERATOR_HOURS = 8


def _operator_cookie(svc: Backend, issued_ms: int) -> str:
    mac = hmac.new(svc.admin_token.encode(), f"operator:{issued_ms}".encode(), hashlib.sha256)
    return f"{issued_ms}.{mac.hexdigest()}"


def _operator(request: Request) -> bool:
    """A signed cookie issued less than 8 hours ago and not signed out of since."""
    value = request.cookies.get(OPERATOR_COOKIE, "")
    issued, _, _ = value.partition(".")
    if not issued.isdigit() or int(issued) + _OPERATOR_HOURS * 3_600_000 < now_ms():
        return False
    svc = backend(request)
    if svc.sessions.ended("operator", int(issued)):
        return False
    return hmac.compare_digest(value, _operator_cookie(svc, int(issued)))


# Per database: the audit entry up to which the console last found the chain intact. The
# server is the only writer while it runs, so the next page walks only the entries after it;
# "Check the whole chain" forgets it.
_CHAIN_CHECKED: dict[str, tuple[int, str]] = {}


def _console_page(
    request: Request, extra: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    svc = backend(request)
    key = str(svc.settings.db)
    view = svc.run(console_view, svc.store, chain_after=_CHAIN_CHECKED.get(key))
    chain = view["chain"]
    if chain.ok:
        _CHAIN_CHECKED[key] = (chain.entries, chain.head)
    else:
        _CHAIN_CHECKED.pop(key, None)
    return _page(request, "console.html", {**view, **(extra or {})}, status_code)


def operator_or_login(request: Request) -> Response | None:
    """``None`` for a signed-in operator, else the redirect to the console's sign-in."""
    return None if _operator(request) else _see("/console/login")


def console_page_of(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Another page of the console (``console_fairness``), with the same CSRF and notices."""
    return _page(request, name, context, status_code)


@router.get("/console/login")
def console_login_form(request: Request) -> HTMLResponse:
    return _page(request, "console_login.html", {})


@router.post("/console/login")
def console_login(request: Request, token: FormText) -> Response:
    svc = backend(request)
    try:
        svc.check_admin(token.strip())
    except CredoError as exc:
        return _page(request, "console_login.html", {"error": exc.message}, exc.http_status)
    seconds = _OPERATOR_HOURS * 3600
    value = _operator_cookie(svc, now_ms())
    return _signed_in(request, "/console", OPERATOR_COOKIE, value, seconds)


@router.post("/console/logout")
def console_logout(request: Request) -> Response:
    """Sign out on the server too: no operator cookie issued before now opens the console."""
    if _operator(request):
        backend(request).end_sessions("operator", "operator", "sign-out")
    return _signed_out("/console/login", OPERATOR_COOKIE)


@router.get("/console")
def console(request: Request) -> Response:
    if not _operator(request):
        return _see("/console/login")
    return _console_page(request)


def operator_action(
    request: Request, action: Any, done: str, anchor: str, *, locked: bool = True
) -> Response:
    """Run a console action for a signed-in operator; a dict it returns is shown on the page.
    ``locked=False`` for an action that takes the service's lock itself."""
    if not _operator(request):
        return _see("/console/login")
    svc = backend(request)
    try:
        result = svc.run(action, svc.store) if locked else action(svc.store)
    except CredoError as exc:
        return _console_page(request, {"error": exc.message, "error_at": anchor}, exc.http_status)
    if isinstance(result, dict):
        return _console_page(request, result)
    return RedirectResponse(f"/console?done={done}#{anchor}", status_code=303)


def _amendment(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for k, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise InputError(f"field amendment, line {k}: write field=value, not {line!r}")
        fields[name.strip()] = value.strip()
    if not fields:
        raise InputError("field amendment: give the corrected values, one field=value per line")
    return fields


@router.post("/console/disputes/{dispute_id}")
def console_resolve(
    request: Request,
    dispute_id: str,
    decision: FormText,
    amendment: FormText = "",
    note: FormText = "",
    operator: FormText = "",
) -> Response:
    """``retract`` or ``amend`` correct the item; ``reject`` verifies it. An amendment is one
    ``field=value`` per line, as ``credo disputes resolve --amend`` takes them. ``operator``
    names who decides (an appeal goes to another operator than the first, R-BL-4)."""
    name = operator.strip()
    actor = f"operator:{name}" if name else "operator"

    def go(store: Any) -> None:
        if name and not re.fullmatch(r"[A-Za-z0-9_.@-]{1,60}", name):
            raise InputError("field operator: letters, digits and _.@- only, at most 60")
        if decision == "reject":
            resolve_dispute(store, dispute_id, "reject", note=note or None, actor=actor)
        elif decision == "retract":
            resolve_dispute(store, dispute_id, "correct", action="retract", note=note or None,
                            actor=actor)  # fmt: skip
        elif decision == "amend":
            resolve_dispute(store, dispute_id, "correct", action="amend",
                            amendment=_amendment(amendment), note=note or None,
                            actor=actor)  # fmt: skip
        else:
            raise InputError(f"field decision: {decision!r} is not retract, amend or reject")

    return operator_action(request, go, "resolved", "disputes")


@router.post("/console/reviews/{review_id}")
def console_review(
    request: Request, review_id: int, decision: FormText, note: FormText = ""
) -> Response:
    def go(store: Any) -> None:
        decide = {"accept": accept_review, "reject": reject_review}.get(decision)
        if decide is None:
            raise InputError(f"field decision: {decision!r} is neither accept nor reject")
        decide(store, review_id, actor="operator", note=note or None)

    return operator_action(request, go, "review", "reviews")


@router.post("/console/human-reviews/{review_id}")
def console_human_review(
    request: Request, review_id: str, outcome: FormText, note: FormText = ""
) -> Response:
    """Record a human review of a decision or a score (R-GDPR-6): the outcome and reasons."""

    def go(store: Any) -> None:
        if outcome not in ("upheld", "changed"):
            raise InputError(f"field outcome: {outcome!r} is neither upheld nor changed")
        decide_review(store, review_id, outcome, note, actor="operator")  # type: ignore[arg-type]

    return operator_action(request, go, "human", "requests")


@router.post("/console/objections/{request_id}")
def console_objection(
    request: Request, request_id: str, outcome: FormText, note: FormText = ""
) -> Response:
    """Assess an objection (R-GDPR-5): upheld erases the person's data; rejected lifts the
    restriction it placed, with the compelling grounds stated."""
    if outcome not in ("upheld", "rejected"):
        error = InputError(f"field outcome: {outcome!r} is neither upheld nor rejected")
        return operator_action(request, _raise(error), "objection", "requests")
    svc = backend(request)

    def go(store: Any) -> None:
        found = svc.run(decide_objection, store, request_id, outcome, note, actor="operator")  # type: ignore[arg-type]
        if outcome == "upheld":
            svc.erase(found.person_id, actor="operator")

    return operator_action(request, go, "objection", "requests", locked=False)


@router.post("/console/requests/{request_id}/extend")
def console_extend(request: Request, request_id: str, reason: FormText = "") -> Response:
    """Extend a request's deadline once, with reasons (R-GDPR-1)."""

    def go(store: Any) -> None:
        extend_request(store, request_id, reason, actor="operator")

    return operator_action(request, go, "extended", "requests")


def _raise(error: CredoError) -> Any:
    def go(_store: Any) -> None:
        raise error

    return go


@router.post("/console/audit")
def console_audit(request: Request) -> Response:
    """Walk the whole audit chain again on the next page (not only what was appended)."""
    if not _operator(request):
        return _see("/console/login")
    _CHAIN_CHECKED.pop(str(backend(request).settings.db), None)
    return RedirectResponse("/console?done=audit#audit", status_code=303)


@router.post("/console/login-codes")
def console_login_code(request: Request, person: FormText) -> Response:
    def go(store: Any) -> dict[str, Any]:
        return {"issued": (person.strip(), issue_login_code(store, person.strip()))}

    return operator_action(request, go, "", "codes")


@router.post("/console/sessions")
def console_end_sessions(request: Request, person: FormText) -> Response:
    """End every session a person holds (a lost phone): they sign in again with a new code."""

    def go(store: Any) -> None:
        if not person_exists(store, person.strip()):
            raise NotFoundError(f"no person {person.strip()!r}")

    if not _operator(request):
        return _see("/console/login")
    svc = backend(request)
    try:
        svc.run(go, svc.store)
        svc.end_sessions(f"person:{person.strip()}", "operator", "operator ended the sessions")
    except CredoError as exc:
        return _console_page(request, {"error": exc.message, "error_at": "codes"}, exc.http_status)
    return RedirectResponse("/console?done=ended#codes", status_code=303)
