"""The person audience: sign in, then only their own file (the token names the person)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from credo.api.deps import Svc, person
from credo.api.errors import ERROR_RESPONSES, aware
from credo.rights.audited import audited_read
from credo.rights.consent import (
    ASSET_CONSEQUENCES,
    ASSET_CONSEQUENCES_VERSION,
    ConsentActionName,
    consents,
    freeze,
    record_consent,
    unfreeze,
)
from credo.rights.disputes import add_evidence, appeal_dispute, list_disputes, open_dispute
from credo.rights.erasure import lift_restriction, restrict
from credo.rights.export import access_export, export_bytes
from credo.rights.file import feed, person_file
from credo.rights.fraud_alerts import alerts_in_force, place_alert, remove_alert, renew_alert
from credo.rights.notices import adverse_notices
from credo.rights.requests import object_to_processing, tracker
from credo.rights.reviews import list_reviews, request_review
from credo.rights.source_notices import source_notices

__all__ = ["router"]

router = APIRouter(prefix="/v1/me", tags=["person"], responses=ERROR_RESPONSES)
Me = Annotated[str, Depends(person)]
Text = Annotated[str, Field(min_length=1, max_length=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionRequest(_Body):
    person: Text
    code: Text


class SessionResponse(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"


class ConsentRequest(_Body):
    action: ConsentActionName = Field(
        description="enrol or leave; grant or revoke per partner and purpose;"
        " grant_sensitive or revoke_sensitive: the separate consent to give that partner"
        " sensitive data (R-PIPL-3); grant_assets or revoke_assets: the written consent to the"
        " use of asset data in your score (R-CRR-4), given with ``acknowledged``"
    )
    partner: Text | None = None
    purpose: Text | None = None
    acknowledged: Annotated[str | None, Field(max_length=64)] = Field(
        None, description="For grant_assets: the version of the consequences statement you read"
    )


class ConsentResponse(BaseModel):
    consent_id: str
    action: str
    partner: str | None
    purpose: str | None
    at: dt.datetime
    active: bool


class DisputeRequest(_Body):
    event_id: Annotated[int, Field(ge=1, le=2**62)]
    statement: Annotated[str, Field(min_length=1, max_length=2000)]
    evidence: Annotated[str | None, Field(max_length=20000)] = None


class ReviewRequest(_Body):
    statement: Annotated[str, Field(min_length=1, max_length=2000)]
    decision_id: Annotated[str | None, Field(max_length=60)] = None


class Ok(BaseModel):
    frozen: bool


class Restricted(BaseModel):
    restricted: bool


@router.post("/session", response_model=SessionResponse)
def post_session(body: SessionRequest, svc: Svc) -> dict[str, Any]:
    """Exchange a one-time login code (from the operator) for a session token."""
    ttl = dt.timedelta(minutes=svc.api.session_minutes)
    token = svc.sign_in(body.person, body.code, ttl)
    return {"token": token}


@router.delete("/session", status_code=204)
def delete_session(svc: Svc, me: Me) -> None:
    """Sign out: this token, and every other session of yours, stops working at once."""
    svc.end_sessions(f"person:{me}", f"person:{me}", "sign-out")


def _read(svc: Svc, me: str, what: str, fn: Any) -> Any:
    def go() -> Any:
        result = fn(svc.store, me)
        audited_read(svc.store, f"person:{me}", f"read.{what}", f"person:{me}", "own file")
        return result

    return svc.run(go)


@router.get("/file")
def get_file(svc: Svc, me: Me) -> dict[str, Any]:
    """Everything held about you: events, scores with reasons, points table, inquiries."""
    result: dict[str, Any] = aware(_read(svc, me, "file", person_file))
    return result


@router.get("/feed")
def get_feed(svc: Svc, me: Me) -> list[dict[str, Any]]:
    """Alerts: new inquiries, score changes of 20+ points, new listings."""
    result: list[dict[str, Any]] = aware(_read(svc, me, "feed", feed))
    return result


@router.get("/notices")
def get_notices(svc: Svc, me: Me) -> list[dict[str, Any]]:
    """Adverse-action notices: declines and worse terms, with key factors and your rights."""
    result: list[dict[str, Any]] = aware(_read(svc, me, "notices", adverse_notices))
    return result


@router.get("/source-notices")
def get_source_notices(svc: Svc, me: Me) -> list[dict[str, Any]]:
    """Who furnished data about you, what kinds, why it is processed, how long it is kept and
    your rights (PIPL Art. 17): one notice per source, from its first record."""
    result: list[dict[str, Any]] = aware(_read(svc, me, "source_notices", source_notices))
    return result


@router.get("/consents", response_model=list[ConsentResponse])
def get_consents(svc: Svc, me: Me) -> list[Any]:
    result: list[Any] = aware(_read(svc, me, "consents", consents))
    return result


@router.post("/consents", response_model=ConsentResponse, status_code=201)
def post_consent(body: ConsentRequest, svc: Svc, me: Me) -> Any:
    """Enrol or leave; grant or revoke consent for one partner and purpose; the separate
    consents for sensitive data and for asset data are records of their own."""
    return aware(
        svc.run(
            record_consent, svc.store, me, body.action, partner=body.partner,
            purpose=body.purpose, acknowledged=body.acknowledged,
        )
    )  # fmt: skip


@router.get("/consents/assets")
def get_asset_terms(me: Me) -> dict[str, str]:
    """What consenting to the use of your asset data means (R-CRR-4): read it, then grant with
    its version as ``acknowledged``."""
    return {"statement": ASSET_CONSEQUENCES, "version": ASSET_CONSEQUENCES_VERSION}


@router.put("/freeze", response_model=Ok)
def put_freeze(svc: Svc, me: Me) -> dict[str, bool]:
    """Freeze your file: no new decision or report until you lift it."""
    svc.run(freeze, svc.store, me)
    return {"frozen": True}


@router.delete("/freeze", response_model=Ok)
def delete_freeze(svc: Svc, me: Me) -> dict[str, bool]:
    svc.run(unfreeze, svc.store, me)
    return {"frozen": False}


@router.post("/disputes", status_code=201)
def post_dispute(body: DisputeRequest, svc: Svc, me: Me) -> dict[str, Any]:
    """Dispute an item of your file; it shows as disputed at once."""
    d = svc.run(open_dispute, svc.store, me, body.event_id, body.statement, body.evidence)
    return aware(d)  # type: ignore[no-any-return]


class EvidenceRequest(_Body):
    evidence: Annotated[str, Field(min_length=1, max_length=20000)]


class AppealRequest(_Body):
    statement: Annotated[str, Field(min_length=1, max_length=2000)]


DisputeId = Annotated[str, Field(max_length=60)]


@router.post("/disputes/{dispute_id}/evidence")
def post_evidence(dispute_id: DisputeId, body: EvidenceRequest, svc: Svc, me: Me) -> Any:
    """Send more information on an open dispute; within its first period the deadline moves
    out once by the rules profile's extension (15 days under FCRA, none in China)."""
    return aware(svc.run(add_evidence, svc.store, me, dispute_id, body.evidence))


@router.post("/disputes/{dispute_id}/appeal")
def post_appeal(dispute_id: DisputeId, body: AppealRequest, svc: Svc, me: Me) -> Any:
    """Appeal a dispute decided against you, within 10 days: it opens again for 15 days."""
    return aware(svc.run(appeal_dispute, svc.store, me, dispute_id, body.statement))


@router.get("/disputes")
def get_disputes(svc: Svc, me: Me) -> list[dict[str, Any]]:
    def go() -> list[dict[str, Any]]:
        return [aware(d) for d in list_disputes(svc.store, person_id=me)]

    result: list[dict[str, Any]] = _read(svc, me, "disputes", lambda _s, _m: go())
    return result


@router.post("/reviews", status_code=201)
def post_review(body: ReviewRequest, svc: Svc, me: Me) -> dict[str, Any]:
    """Ask for a human to review a decision about you, or your score (no decision_id)."""
    r = svc.run(request_review, svc.store, me, body.statement, body.decision_id)
    return aware(r)  # type: ignore[no-any-return]


@router.get("/reviews")
def get_reviews(svc: Svc, me: Me) -> list[dict[str, Any]]:
    """Your review requests with their deadlines and outcomes."""

    def go(_store: Any, _me: str) -> list[dict[str, Any]]:
        return [aware(r) for r in list_reviews(svc.store, person_id=me)]

    result: list[dict[str, Any]] = _read(svc, me, "reviews", go)
    return result


@router.put("/restriction", response_model=Restricted)
def put_restriction(svc: Svc, me: Me) -> dict[str, bool]:
    """Restrict processing (GDPR Art. 18, or while an objection is assessed, Art. 21): your
    data is kept, but no partner gets a decision or report, and no outcome is recorded."""
    svc.run(restrict, svc.store, me)
    return {"restricted": True}


@router.delete("/restriction", response_model=Restricted)
def delete_restriction(svc: Svc, me: Me) -> dict[str, bool]:
    svc.run(lift_restriction, svc.store, me)
    return {"restricted": False}


@router.post("/erasure", status_code=201)
def post_erasure(svc: Svc, me: Me) -> dict[str, Any]:
    """Erase your data (GDPR Art. 17, PIPL Art. 47). A court listing still in force is kept
    (a legal hold): the answer says what was kept and why; everything else is erased at once,
    and partners that received a decision or report about you are told."""
    return aware(svc.erase(me).to_dict())  # type: ignore[no-any-return]


@router.get("/requests")
def get_requests(svc: Svc, me: Me) -> list[dict[str, Any]]:
    """Every request of yours (erasure, access, objection, correction, human review) with the
    date its answer is due, any extension and its reasons, and whether it is overdue; what an
    erasure kept, and why."""

    def go(_store: Any, _me: str) -> list[dict[str, Any]]:
        return [aware(r.to_dict()) for r in tracker(svc.store, me)]

    result: list[dict[str, Any]] = _read(svc, me, "requests", go)
    return result


class ObjectionRequest(_Body):
    grounds: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/objections", status_code=201)
def post_objection(body: ObjectionRequest, svc: Svc, me: Me) -> dict[str, Any]:
    """Object to the processing of your data (GDPR Art. 21): it stops at once while the
    operator assesses your grounds by the deadline; upheld, your data is erased."""
    return aware(svc.run(object_to_processing, svc.store, me, body.grounds).to_dict())  # type: ignore[no-any-return]


@router.get("/export")
def get_export(svc: Svc, me: Me) -> Response:
    """Your data as one machine-readable JSON file (GDPR Art. 15, PIPL Art. 45): the data, its
    purposes, recipients, retention and sources, and how the score is made, with what would
    change it."""
    export = svc.run(access_export, svc.store, me, contact=svc.api.privacy_contact)
    body = export_bytes(export)
    return Response(
        body, media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="credo-export-{me}.json"'},
    )  # fmt: skip


class AlertRequest(_Body):
    kind: Literal["initial", "extended", "active_duty"]
    report_reference: Annotated[str | None, Field(max_length=200)] = None
    phone: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    """A number a lender must call to verify you before extending credit."""


@router.post("/fraud-alerts", status_code=201)
def post_fraud_alert(body: AlertRequest, svc: Svc, me: Me) -> Any:
    """Place a fraud alert (1 year), an extended one (7 years, with your identity-theft
    report's reference) or an active-duty alert (1 year): every decision and report carries it
    and partners must verify your identity (by calling ``phone`` when you give one) before
    extending credit; the other nationwide bureaus are told."""
    alert = svc.run(place_alert, svc.store, me, body.kind,
                    report_reference=body.report_reference, phone=body.phone)  # fmt: skip
    return aware(alert.to_dict())


@router.get("/fraud-alerts")
def get_fraud_alerts(svc: Svc, me: Me) -> list[dict[str, Any]]:
    def go(_store: Any, _me: str) -> list[dict[str, Any]]:
        return [aware(a.to_dict()) for a in alerts_in_force(svc.store, me)]

    result: list[dict[str, Any]] = _read(svc, me, "fraud_alerts", go)
    return result


@router.post("/fraud-alerts/{alert_id}/renew")
def post_renew_fraud_alert(alert_id: Annotated[str, Field(max_length=60)], svc: Svc, me: Me) -> Any:
    """Renew your active-duty alert for another year from its end (FCRA 605A(c))."""
    return aware(svc.run(renew_alert, svc.store, me, alert_id).to_dict())


@router.delete("/fraud-alerts/{alert_id}", status_code=204)
def delete_fraud_alert(alert_id: Annotated[str, Field(max_length=60)], svc: Svc, me: Me) -> None:
    svc.run(remove_alert, svc.store, me, alert_id)
