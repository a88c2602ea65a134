"""The operator audience: partners and keys, login codes, disputes, webhook delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from credo.access import create_key, create_partner, issue_login_code, list_partners
from credo.api.deps import Svc, admin
from credo.api.errors import ERROR_RESPONSES, aware
from credo.errors import NotFoundError
from credo.ingest.events import CourtJudgmentEvent
from credo.rights.audited import audited_read, person_exists
from credo.rights.court_feed import expire_listings, record_court_update
from credo.rights.disputes import (
    complete_fixes,
    expire_disputes,
    list_disputes,
    reinsert,
    resolve_dispute,
)
from credo.rights.export import regulator_bundle
from credo.rights.fraud_alerts import alert_referrals, export_referrals
from credo.rights.furnishers import export_furnisher_notices, furnisher_notices
from credo.rights.requests import decide_objection, extend_request, tracker
from credo.rights.reviews import decide_review, list_reviews
from credo.scoring.retention import retention_run
from credo.store.db import utcnow

__all__ = ["router"]

router = APIRouter(
    prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES, dependencies=[Depends(admin)]
)
Text = Annotated[str, Field(min_length=1, max_length=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def operator_actor(
    x_credo_operator: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=60,
            pattern=r"^[A-Za-z0-9_.@-]+$",
            description="The operator acting (the console sends the signed-in operator's"
            " name); recorded as the actor of what decides a dispute. Without it: 'admin'.",
        ),
    ] = None,
) -> str:
    """Who decides, as the audit log and the dispute record name them (RULES R-BL-4)."""
    return f"operator:{x_credo_operator}" if x_credo_operator else "admin"


Actor = Annotated[str, Depends(operator_actor)]


class PartnerRequest(_Body):
    partner_id: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_-]+$")]
    name: Text
    webhook_url: Annotated[str | None, Field(max_length=500)] = None
    jurisdiction: Annotated[str | None, Field(max_length=60, pattern=r"^[a-z0-9-]+$")] = None
    """The rules profile its requests follow (``us-fcra``); none: the installation's."""
    address: Annotated[str | None, Field(min_length=1, max_length=300)] = None
    phone: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    agency: Annotated[str | None, Field(min_length=1, max_length=300)] = None
    """Who supervises the partner; its notices name them (R-ECOA-3)."""


class KeyRequest(_Body):
    scopes: Annotated[list[Literal["decisions", "reports", "outcomes"]], Field(min_length=1)]


class ResolveRequest(_Body):
    decision: Literal["correct", "reject", "frivolous"]
    action: Literal["amend", "retract"] = "amend"
    amendment: dict[str, str | int | float | bool | None] | None = None
    note: Annotated[str | None, Field(max_length=2000)] = None
    needed: Annotated[str | None, Field(max_length=2000)] = None
    """``frivolous`` only: what the person must send (with the reasons in ``note``)."""


class ReinsertRequest(_Body):
    certification: Annotated[str, Field(min_length=1, max_length=2000)]
    furnisher_contact: Annotated[str | None, Field(min_length=1, max_length=500)] = None
    """The furnisher's name, address and phone; needed unless it is a partner with an address."""


@router.post("/partners", status_code=201)
def post_partner(body: PartnerRequest, svc: Svc) -> dict[str, Any]:
    """Register a partner; the webhook secret is shown only in this answer."""
    p = svc.run(create_partner, svc.store, body.partner_id, body.name,
                webhook_url=body.webhook_url, jurisdiction=body.jurisdiction,
                address=body.address, phone=body.phone, agency=body.agency)  # fmt: skip
    return {"partner_id": p.partner_id, "name": p.name, "webhook_url": p.webhook_url,
            "jurisdiction": p.jurisdiction, "webhook_secret": p.webhook_secret}  # fmt: skip


@router.get("/partners")
def get_partners(svc: Svc) -> list[dict[str, Any]]:
    """Every partner and its keys (ids and scopes; a key's secret is never shown again)."""
    return [aware(p) for p in svc.run(list_partners, svc.store)]


@router.post("/partners/{partner_id}/keys", status_code=201)
def post_key(
    partner_id: Annotated[str, Field(max_length=60)], body: KeyRequest, svc: Svc
) -> dict[str, Any]:
    """A new API key; the key is shown only in this answer (stored hashed)."""
    k = svc.run(create_key, svc.store, partner_id, list(body.scopes))
    return {"key_id": k.key_id, "partner_id": k.partner_id, "scopes": list(k.scopes),
            "key": k.key}  # fmt: skip


@router.delete("/keys/{key_id}", status_code=204)
def delete_key(key_id: Annotated[str, Field(max_length=60)], svc: Svc) -> None:
    svc.revoke_key(key_id)


@router.delete("/partners/{partner_id}/keys")
def delete_partner_keys(
    partner_id: Annotated[str, Field(max_length=60)], svc: Svc
) -> dict[str, list[str]]:
    """End a partner's access: every API key it holds is revoked at once."""
    return {"revoked": svc.revoke_partner_keys(partner_id)}


@router.delete("/persons/{person_id}/sessions", status_code=204)
def delete_person_sessions(person_id: Annotated[str, Field(max_length=100)], svc: Svc) -> None:
    """End every session the person holds now (a lost phone); a new login code still works."""
    if not svc.run(person_exists, svc.store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    svc.end_sessions(f"person:{person_id}", "admin", "operator ended the sessions")


@router.post("/persons/{person_id}/login-codes", status_code=201)
def post_login_code(person_id: Annotated[str, Field(max_length=100)], svc: Svc) -> dict[str, str]:
    """A one-time login code for the person (hand it over out of band)."""
    return {"person": person_id, "code": svc.run(issue_login_code, svc.store, person_id)}


@router.post("/persons/{person_id}/erasure", status_code=201)
def post_erasure(person_id: Annotated[str, Field(max_length=100)], svc: Svc) -> dict[str, Any]:
    """Erase a person's data on a request the operator received (by post, at a desk): the same
    erasure as ``POST /v1/me/erasure``, with its legal holds, recorded as the operator's."""
    return aware(svc.erase(person_id, actor="admin").to_dict())  # type: ignore[no-any-return]


@router.get("/disputes")
def get_disputes(
    svc: Svc,
    status: Annotated[Literal["open", "corrected", "verified", "expired"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Disputes, oldest first; the read is audited like every read of personal data."""

    def go() -> list[dict[str, Any]]:
        found = list_disputes(svc.store, status=status)
        audited_read(svc.store, "admin", "read.disputes", "disputes", "dispute handling",
                     {"status": status, "count": len(found)})  # fmt: skip
        return [aware(d) for d in found]

    return svc.run(go)


@router.post("/disputes/{dispute_id}/resolve")
def post_resolve(
    dispute_id: Annotated[str, Field(max_length=60)], body: ResolveRequest, svc: Svc, actor: Actor
) -> dict[str, Any]:
    """Resolve: ``correct`` writes a correction, re-scores and notifies partners. An appealed
    dispute is decided by another operator than the one who decided it first (``409``)."""
    d = svc.run(
        resolve_dispute,
        svc.store,
        dispute_id,
        body.decision,
        action=body.action,
        amendment=body.amendment,
        note=body.note,
        needed=body.needed,
        actor=actor,
    )
    return aware(d)  # type: ignore[no-any-return]


@router.post("/disputes/{dispute_id}/reinsert")
def post_reinsert(
    dispute_id: Annotated[str, Field(max_length=60)], body: ReinsertRequest, svc: Svc, actor: Actor
) -> dict[str, Any]:
    """Put back an item a dispute removed, on the furnisher's certification (R-FCRA-7)."""
    d = svc.run(reinsert, svc.store, dispute_id, body.certification,
                furnisher_contact=body.furnisher_contact, actor=actor)  # fmt: skip
    return aware(d)  # type: ignore[no-any-return]


@router.get("/furnisher-notices")
def get_furnisher_notices(
    svc: Svc,
    source: Annotated[str | None, Query(max_length=100)] = None,
    pending: bool = True,
) -> list[dict[str, Any]]:
    """Dispute notices queued for furnishers that load files, oldest first (R-FCRA-4)."""
    return [aware(n) for n in svc.run(furnisher_notices, svc.store, source=source, pending=pending)]


@router.post("/furnisher-notices/{source}/export")
def post_furnisher_export(
    source: Annotated[str, Field(max_length=100)], svc: Svc
) -> dict[str, Any]:
    """Hand over a source's pending notices in this answer, marked exported and audited."""
    done = svc.run(export_furnisher_notices, svc.store, source, actor="admin")
    return aware(done.to_dict())  # type: ignore[no-any-return]


@router.get("/alert-referrals")
def get_alert_referrals(
    svc: Svc,
    bureau: Annotated[str | None, Query(max_length=100)] = None,
    pending: bool = True,
) -> list[dict[str, Any]]:
    """Fraud alerts queued for referral to the other nationwide bureaus, oldest first, each
    saying whether it is overdue (R-FCRA-16)."""
    return [aware(r) for r in svc.run(alert_referrals, svc.store, bureau=bureau, pending=pending)]


@router.post("/alert-referrals/{bureau}/export")
def post_alert_referrals_export(
    bureau: Annotated[str, Field(max_length=100)], svc: Svc, actor: Actor
) -> dict[str, Any]:
    """Hand over a bureau's pending referrals in this answer, marked exported and audited."""
    return aware(svc.run(export_referrals, svc.store, bureau, actor=actor).to_dict())  # type: ignore[no-any-return]


@router.post("/disputes/fix")
def post_fix(svc: Svc, actor: Actor) -> list[dict[str, Any]]:
    """Re-score every person whose corrected dispute is not yet fixed (R-BL-4: due within the
    profile's ``disputes.fix_working_days``); what failed again stays listed as overdue."""
    return [aware(d) for d in svc.run(complete_fixes, svc.store, actor=actor)]


@router.post("/disputes/expire")
def post_expire(svc: Svc) -> list[dict[str, Any]]:
    """Retract every item whose dispute passed the rules profile's deadline unverified."""
    return [aware(d) for d in svc.run(expire_disputes, svc.store)]


@router.post("/webhooks/deliver")
def post_deliver(svc: Svc) -> dict[str, int]:
    """Deliver due partner notices now (the server also does it in the background)."""
    report = svc.deliver_now()
    return {"delivered": report.delivered, "failed": report.failed}


class CourtUpdateRequest(_Body):
    record_id: Text
    court: Text
    case_number: Text
    status: Literal["satisfied", "revoked"]
    listed_on: dt.date
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
    satisfied_on: dt.date | None = None


@router.post("/court-list/updates", status_code=201)
def post_court_update(body: CourtUpdateRequest, svc: Svc) -> dict[str, Any]:
    """A satisfaction or withdrawal from the court's feed: re-scores and notifies at once."""
    event = CourtJudgmentEvent(
        source_record_id=body.record_id,
        occurred_at=utcnow(),
        court=body.court,
        case_number=body.case_number,
        amount=body.amount,
        listed_on=body.listed_on,
        satisfied_on=body.satisfied_on,
        judgment_status=body.status,
    )
    update = svc.run(record_court_update, svc.store, event, actor="admin")
    return aware(update)  # type: ignore[no-any-return]


@router.post("/court-list/expire")
def post_expire_listings(svc: Svc) -> list[dict[str, Any]]:
    """End every listing whose fixed term ran out (the server also does it in the background)."""
    return [aware(u) for u in svc.run(expire_listings, svc.store, actor="admin")]


class RetentionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: dt.date


@router.post("/retention/run")
def post_retention_run(body: RetentionRequest, svc: Svc) -> dict[str, Any]:
    """Delete the adverse items past the rules profile's retention on ``as_of`` (monthly)."""
    return svc.run(retention_run, svc.store, body.as_of, actor="admin").to_dict()


@router.get("/reviews")
def get_reviews(
    svc: Svc, status: Annotated[Literal["open", "upheld", "changed"] | None, Query()] = None
) -> list[dict[str, Any]]:
    """The human-review queue, the nearest deadline first; the read is audited."""

    def go() -> list[dict[str, Any]]:
        found = list_reviews(svc.store, status=status)
        audited_read(svc.store, "admin", "read.reviews", "reviews", "human review",
                     {"status": status, "count": len(found)})  # fmt: skip
        return [aware(r) for r in found]

    return svc.run(go)


class ReviewOutcome(_Body):
    outcome: Literal["upheld", "changed"]
    note: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/reviews/{review_id}/decide")
def post_review_outcome(
    review_id: Annotated[str, Field(max_length=60)], body: ReviewOutcome, svc: Svc
) -> dict[str, Any]:
    """Record a human review's outcome with its reasons (shown to the person)."""
    r = svc.run(decide_review, svc.store, review_id, body.outcome, body.note, actor="admin")
    return aware(r)  # type: ignore[no-any-return]


@router.get("/requests")
def get_requests(
    svc: Svc, open_only: Annotated[bool, Query(alias="open")] = False
) -> list[dict[str, Any]]:
    """Every person's requests (erasure, access, objection, correction, review) with their
    deadlines, the nearest first and overdue ones marked; the read is audited."""

    def go() -> list[dict[str, Any]]:
        found = tracker(svc.store, open_only=open_only)
        audited_read(svc.store, "admin", "read.requests", "requests", "request tracker",
                     {"open": open_only, "count": len(found)})  # fmt: skip
        return [aware(r.to_dict()) for r in found]

    return svc.run(go)


class ExtensionRequest(_Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


RequestId = Annotated[str, Field(max_length=60)]


@router.post("/requests/{request_id}/extend")
def post_extension(request_id: RequestId, body: ExtensionRequest, svc: Svc) -> dict[str, Any]:
    """Extend an open request once, within its first period, by the profile's extension
    (GDPR: two months), with reasons the person sees."""
    found = svc.run(extend_request, svc.store, request_id, body.reason, actor="admin")
    return aware(found.to_dict())  # type: ignore[no-any-return]


class ObjectionOutcome(_Body):
    outcome: Literal["upheld", "rejected"]
    note: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/objections/{request_id}/decide")
def post_objection_outcome(
    request_id: RequestId, body: ObjectionOutcome, svc: Svc
) -> dict[str, Any]:
    """Assess an objection: upheld erases the person's data (kept only under a legal hold);
    rejected states the compelling legitimate grounds and lifts the restriction it placed."""
    found = svc.run(decide_objection, svc.store, request_id, body.outcome, body.note, actor="admin")
    result = aware(found.to_dict())
    if body.outcome == "upheld":
        result["erasure"] = aware(svc.erase(found.person_id, actor="admin").to_dict())
    return result  # type: ignore[no-any-return]


@router.get("/persons/{person_id}/regulator-bundle")
def get_regulator_bundle(person_id: Annotated[str, Field(max_length=100)], svc: Svc) -> Any:
    """The sealed bundle for a supervisory authority or court (R-GDPR-2a): the whole model and
    the person's score taken apart; its SHA-256 is written to the audit chain."""
    return svc.run(regulator_bundle, svc.store, person_id, actor="admin")
