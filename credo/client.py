"""A typed Python client for Credo's HTTP API, on httpx, for partners and operators.

It imports nothing else from Credo, so a partner can use it without the scoring library::

    from credo.client import PartnerClient

    credo = PartnerClient("http://127.0.0.1:8650", key="credo_...")
    decision = credo.decide(person="P000123", product="car_rental", consent="ce-000000042")

Every error answer becomes a :class:`CredoAPIError` carrying the API's one error body (type,
status, message, hint, fields). :func:`verify_signature` checks a webhook notice. Each client
takes an optional ``http`` (any ``httpx.Client``, such as a test client) in place of a URL.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal, Self, TypedDict, cast

import httpx

__all__ = [
    "AdminClient",
    "CredoAPIError",
    "DecisionAnswer",
    "KeyAnswer",
    "PartnerAnswer",
    "PartnerClient",
    "PersonClient",
    "Scope",
    "verify_signature",
]

Scope = Literal["decisions", "reports", "outcomes"]


class CredoAPIError(Exception):
    """An error answer: ``status`` and the API's ``type``, ``message``, ``hint``, ``fields``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.type = str(body.get("type", "error"))
        self.message = str(body.get("message", f"HTTP {status}"))
        self.hint: str | None = body.get("hint")
        self.fields: dict[str, Any] = body.get("fields") or {}
        super().__init__(f"{status} {self.type}: {self.message}")


class DecisionAnswer(TypedDict):
    decision_id: str
    person: str
    product: str
    outcome: Literal["approved", "declined", "verification_required"]
    terms: dict[str, Any]
    reasons: list[dict[str, str]]
    score: float | None
    band: str | None
    run_id: str | None
    scoring_policy: str | None
    products_version: str
    disputed_items: list[dict[str, Any]]
    decided_at: str


class PartnerAnswer(TypedDict):
    partner_id: str
    name: str
    webhook_url: str | None
    jurisdiction: str | None
    webhook_secret: str


class KeyAnswer(TypedDict):
    key_id: str
    partner_id: str
    scopes: list[str]
    key: str


class _Client:
    """One HTTP session with a bearer credential; error answers raise ``CredoAPIError``."""

    def __init__(
        self,
        base_url: str = "",
        token: str | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        if http is None and not base_url:
            raise ValueError("give the server's base_url (or an httpx client as http)")
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._owned = http is None
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self._auth, **kwargs.pop("headers", {})}
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.is_error:
            try:
                body = response.json().get("error", {})
            except ValueError:
                body = {"message": response.text[:200]}
            raise CredoAPIError(response.status_code, body)
        return None if response.status_code == 204 else response.json()


class PartnerClient(_Client):
    """What a partner does with its API key: products, decisions, reports, outcomes."""

    def __init__(
        self, base_url: str = "", key: str = "", *, http: httpx.Client | None = None
    ) -> None:
        super().__init__(base_url, key, http=http)

    def products(self) -> dict[str, Any]:
        """The products on offer: each one's purpose, score thresholds and terms."""
        return cast(dict[str, Any], self._call("GET", "/v1/products"))

    def decide(
        self,
        person: str,
        product: str,
        consent: str,
        identity_verification: dict[str, str] | None = None,
    ) -> DecisionAnswer:
        """A decision; ``consent`` is the reference the person gave you;
        ``identity_verification`` (``method``, ``reference``, ``phone``): how you verified the
        person, needed for credit while they have a fraud alert."""
        body: dict[str, Any] = {"person": person, "product": product, "consent": consent}
        if identity_verification is not None:
            body["identity_verification"] = identity_verification
        return cast(DecisionAnswer, self._call("POST", "/v1/decisions", json=body))

    def report(self, person: str, purpose: str) -> dict[str, Any]:
        """A risk report for a permissible purpose (the person sees it as an inquiry)."""
        return cast(
            dict[str, Any], self._call("GET", f"/v1/reports/{person}", params={"purpose": purpose})
        )

    def outcome(self, person: str, decision_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Report what happened after a decision (a ``rental`` or ``loan`` event)."""
        body = {"person": person, "decision_id": decision_id, "event": event}
        return cast(dict[str, Any], self._call("POST", "/v1/outcomes", json=body))


class AdminClient(_Client):
    """What an operator does with the admin token: partners, keys, login codes, disputes."""

    def __init__(
        self, base_url: str = "", token: str = "", *, http: httpx.Client | None = None
    ) -> None:
        super().__init__(base_url, token, http=http)

    def add_partner(
        self,
        partner_id: str,
        name: str,
        webhook_url: str | None = None,
        jurisdiction: str | None = None,
        *,
        address: str | None = None,
        phone: str | None = None,
        agency: str | None = None,
    ) -> PartnerAnswer:
        """Register a partner; its webhook secret is in this answer only. ``jurisdiction``: the
        rules profile its requests follow (none: the installation's); ``address``, ``phone``,
        ``agency``: what its notices tell the person (R-ECOA-3, R-FCRA-7)."""
        body = {"partner_id": partner_id, "name": name, "webhook_url": webhook_url}
        given = {"jurisdiction": jurisdiction, "address": address, "phone": phone, "agency": agency}
        body |= {k: v for k, v in given.items() if v is not None}
        return cast(PartnerAnswer, self._call("POST", "/admin/partners", json=body))

    def partners(self) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call("GET", "/admin/partners"))

    def create_key(self, partner_id: str, scopes: list[Scope]) -> KeyAnswer:
        """A new API key; the key is in this answer only."""
        path = f"/admin/partners/{partner_id}/keys"
        return cast(KeyAnswer, self._call("POST", path, json={"scopes": scopes}))

    def revoke_key(self, key_id: str) -> None:
        self._call("DELETE", f"/admin/keys/{key_id}")

    def login_code(self, person: str) -> str:
        """A one-time login code for the person, handed over out of band."""
        return str(self._call("POST", f"/admin/persons/{person}/login-codes")["code"])

    def status(self) -> dict[str, Any]:
        """What the database holds, as ``credo status --json`` prints it."""
        return cast(dict[str, Any], self._call("GET", "/admin/status"))

    def quarantine(
        self, source: str | None = None, load: int | None = None, limit: int = 50
    ) -> dict[str, Any]:
        found = {"source": source, "load": load, "limit": limit}
        params = {k: v for k, v in found.items() if v is not None}
        return cast(dict[str, Any], self._call("GET", "/admin/quarantine", params=params))

    def audit_verify(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("GET", "/admin/audit/verify"))

    def explain(self, person: str, as_of: str | None = None) -> dict[str, Any]:
        """A person's score explained, as ``credo explain --json`` prints it."""
        params = {"as_of": as_of} if as_of else {}
        path = f"/admin/persons/{person}/explanation"
        return cast(dict[str, Any], self._call("GET", path, params=params))

    def disputes(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        return cast(list[dict[str, Any]], self._call("GET", "/admin/disputes", params=params))

    def resolve_dispute(
        self,
        dispute_id: str,
        decision: Literal["correct", "reject"],
        action: Literal["amend", "retract"] = "amend",
        amendment: dict[str, str] | None = None,
        note: str | None = None,
        operator: str | None = None,
    ) -> dict[str, Any]:
        """Correct (retract or amend the item, re-score, notify partners) or reject;
        ``operator`` names who decides (an appeal goes to another operator than the first)."""
        body = {"decision": decision, "action": action, "amendment": amendment, "note": note}
        path = f"/admin/disputes/{dispute_id}/resolve"
        headers = {"X-Credo-Operator": operator} if operator else {}
        return cast(dict[str, Any], self._call("POST", path, json=body, headers=headers))

    def expire_disputes(self) -> list[dict[str, Any]]:
        """Retract every item whose dispute passed its deadline unverified."""
        return cast(list[dict[str, Any]], self._call("POST", "/admin/disputes/expire"))

    def furnisher_notices(
        self, source: str | None = None, *, pending: bool = True
    ) -> list[dict[str, Any]]:
        """Dispute notices queued for furnishers that load files (R-FCRA-4)."""
        params: dict[str, Any] = {"pending": pending}
        if source is not None:
            params["source"] = source
        return cast(
            list[dict[str, Any]], self._call("GET", "/admin/furnisher-notices", params=params)
        )

    def export_furnisher_notices(self, source: str) -> dict[str, Any]:
        """A source's pending notices, in the answer, marked exported."""
        return cast(dict[str, Any], self._call("POST", f"/admin/furnisher-notices/{source}/export"))

    def deliver(self) -> dict[str, int]:
        """Deliver due partner notices now: ``{"delivered": n, "failed": m}``."""
        return cast(dict[str, int], self._call("POST", "/admin/webhooks/deliver"))


class PersonClient(_Client):
    """What a person does: sign in with a login code, then grant or revoke consent."""

    def __init__(self, base_url: str = "", *, http: httpx.Client | None = None) -> None:
        super().__init__(base_url, http=http)

    def sign_in(self, person: str, code: str) -> None:
        answer = self._call("POST", "/v1/me/session", json={"person": person, "code": code})
        self._auth = {"Authorization": f"Bearer {answer['token']}"}

    def grant(self, partner: str, purpose: str) -> str:
        """Allow a partner to ask for a purpose; the consent reference to give the partner."""
        body = {"action": "grant", "partner": partner, "purpose": purpose}
        return str(self._call("POST", "/v1/me/consents", json=body)["consent_id"])

    def revoke(self, partner: str, purpose: str) -> None:
        body = {"action": "revoke", "partner": partner, "purpose": purpose}
        self._call("POST", "/v1/me/consents", json=body)


def verify_signature(body: bytes, signature: str, secret: str) -> bool:
    """Whether a webhook notice came from Credo: ``signature`` is its ``X-Credo-Signature``
    header (``sha256=<hex>``), the HMAC-SHA256 of the raw body under your webhook secret."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
