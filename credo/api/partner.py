"""The partner audience: decisions, outcomes and risk reports, each behind consent."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credo.access import ApiKey
from credo.api.deps import Svc, partner
from credo.api.errors import ERROR_RESPONSES, aware
from credo.api.refusals import PARTNER_KEY
from credo.api.service import Service
from credo.errors import InputError
from credo.ingest.events import LoanEvent, RentalEvent
from credo.policy.products import Product
from credo.purposes import REPORT_PURPOSES
from credo.rights.decisions import Decision, DecisionInput
from credo.rights.fraud_alerts import IdentityVerification
from credo.rights.reports import record_outcome, risk_report

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["partner"], responses=ERROR_RESPONSES)
Id = Annotated[str, Field(min_length=1, max_length=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityCheck(_Body):
    method: Literal["phone", "in_person", "document", "knowledge_based"]
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    """With ``method: phone``: the number you called."""


class DecisionRequest(_Body):
    person: Id
    product: Id
    consent: Id = Field(description="The consent reference the person gave you.")
    identity_verification: IdentityCheck | None = Field(
        None,
        description="How you verified the person's identity. Needed for a credit product while"
        " the person has a fraud alert (FCRA 605A(h)): without it the outcome is"
        " 'verification_required'. Where the alert gives a phone number, call it and say so.",
    )


class Reason(BaseModel):
    code: str
    text: str


class DecisionResponse(BaseModel):
    decision_id: str
    person: str
    product: str
    outcome: Literal["approved", "declined", "verification_required"]
    terms: dict[str, Any]
    reasons: list[Reason]
    score: float | None
    band: str | None
    run_id: str | None
    scoring_policy: str | None
    products_version: str
    disputed_items: list[dict[str, Any]]
    decided_at: dt.datetime


class ProductsResponse(BaseModel):
    name: str
    version: str
    digest: str
    products: list[Product]
    report_purposes: list[str] = Field(description="What a risk report may be asked for.")


class RentalOutcome(_Body):
    event_type: Literal["rental"]
    source_record_id: Id
    occurred_at: dt.datetime
    item: Literal["bike", "car", "hotel", "umbrella", "power_bank", "camera"]
    deposit: Literal["waived", "paid"]
    returned_on_time: bool
    damage: bool = False
    unpaid_amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] = Decimal(0)


class LoanOutcome(_Body):
    event_type: Literal["loan"]
    source_record_id: Id
    occurred_at: dt.datetime
    loan_event: Literal["opened", "instalment", "default", "closed", "bankruptcy"]
    account_id: Id
    amount: Annotated[Decimal | None, Field(ge=0, max_digits=18, decimal_places=2)] = None
    due_date: dt.date | None = None
    paid_date: dt.date | None = None
    days_past_due: Annotated[int | None, Field(ge=0, le=100_000)] = None


class OutcomeRequest(_Body):
    person: Id
    decision_id: Id
    event: Annotated[RentalOutcome | LoanOutcome, Field(discriminator="event_type")]


class OutcomeResponse(BaseModel):
    event_id: int
    source: str


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    except (OverflowError, ValueError):
        raise InputError("field event.occurred_at: out of range") from None


def _rfc3339(value: Any) -> str:
    if isinstance(value, dt.datetime):  # stored naive UTC
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    raise TypeError(f"{type(value).__name__} in a decision")


_ANSWER = json.JSONEncoder(default=_rfc3339, ensure_ascii=False, separators=(",", ":"))


def decision_json(d: Decision) -> bytes:
    """The answer to a decision, written straight from the dataclass: the hot path skips a
    deep copy and a second validation against ``DecisionResponse`` (which documents it, and
    which tests/api check this against)."""
    return _ANSWER.encode(d.__dict__).encode()


DECISIONS_SCOPE = "decisions"
_DECISIONS_KEY = partner(DECISIONS_SCOPE)

DECIDED = "credo.decided"
"""Where the lean path leaves the key and the error of a decision it asked, for this route to
answer as the full stack answers errors (docs/decisions/0964)."""


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its nested models written in place: OpenAPI readers resolve
    ``#/components/...`` references, not the ``#/$defs/...`` ones pydantic writes (ReDoc
    refused the page)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return dict(walk(schema))


_DECISION_BODY = {
    "required": True,
    "content": {"application/json": {"schema": _inlined(DecisionRequest.model_json_schema())}},
}


@router.post(
    "/decisions",
    response_model=DecisionResponse,
    openapi_extra={"requestBody": _DECISION_BODY, "security": [{"PartnerKey": []}]},
)
async def post_decision(request: Request) -> Response:
    """Decide a product for a person who consented to this partner for its purpose."""
    # The hot path checks its key and reads its body itself, in the order FastAPI would (the
    # key first): each FastAPI dependency costs microseconds a decision cannot spare (0612).
    # Most decisions do not come here at all: credo.api.lean answers them (0964), and sends
    # here, with what it learnt, the ones this route answers with an error.
    decided: tuple[ApiKey, Exception] | None = request.scope.pop(DECIDED, None)
    if decided is None:
        key = await _DECISIONS_KEY(request)
    else:
        key = request.scope[PARTNER_KEY] = decided[0]
    try:
        body = DecisionRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    if decided is not None:
        raise decided[1]
    svc: Service = request.app.state.service
    d = await svc.decide(decision_ask(key, body))
    return Response(decision_json(d), media_type="application/json")


def decision_ask(key: ApiKey, body: DecisionRequest) -> DecisionInput:
    """What the writer decides, from a request that passed its checks."""
    check = body.identity_verification
    verified = None if check is None else IdentityVerification(**check.model_dump())
    return DecisionInput(key.partner_id, body.person, body.product, body.consent, verified)


@router.get("/products", response_model=ProductsResponse)
def get_products(svc: Svc) -> dict[str, Any]:
    """The products a partner can ask a decision for: purpose, score thresholds and terms.

    Open to anyone: the offers hold no personal data, and a partner reads them before it has
    a key (decision 0630)."""
    p = svc.products
    return {"name": p.name, "version": p.version, "digest": p.digest,
            "products": p.products, "report_purposes": list(REPORT_PURPOSES)}  # fmt: skip


@router.post("/outcomes", response_model=OutcomeResponse, status_code=201)
def post_outcome(
    body: OutcomeRequest, svc: Svc, key: Annotated[ApiKey, Depends(partner("outcomes"))]
) -> dict[str, Any]:
    """Report what happened after a decision; it becomes an event for the next scoring."""
    fields = body.event.model_dump(exclude_none=True)
    fields["occurred_at"] = _utc(body.event.occurred_at)
    try:
        event: RentalEvent | LoanEvent = (
            RentalEvent(partner=key.partner_id, **fields)
            if isinstance(body.event, RentalOutcome)
            else LoanEvent(**fields)
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"field event.{where}: {first['msg']}") from None
    event_id = svc.run(
        record_outcome, svc.store, key.partner_id, body.person, body.decision_id, event
    )
    return {"event_id": event_id, "source": f"partner:{key.partner_id}"}


@router.get("/reports/{person}")
def get_report(
    person: Annotated[str, Field(max_length=100)],
    purpose: Annotated[str, Query(max_length=60, description="A permissible purpose.")],
    svc: Svc,
    key: Annotated[ApiKey, Depends(partner("reports"))],
    accounts: Annotated[
        bool,
        Query(
            description="Add the person's loan accounts (sensitive data: needs the person's"
            " separate consent for you and this purpose where your rules profile asks for it)."
        ),
    ] = False,
) -> dict[str, Any]:
    """A risk report for a stated permissible purpose; the person sees it as an inquiry."""
    report = svc.run(risk_report, svc.store, key.partner_id, person, purpose, accounts=accounts)
    return aware(report)  # type: ignore[no-any-return]
