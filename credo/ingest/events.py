"""The event types of SPEC S1 as typed models, and the one column catalogue derived from them.

Every input becomes an immutable event: provenance (source, source record id, load, times),
the subject's identifiers as the source gave them, and a typed payload. The pydantic models
below are the single definition: the validation SQL, the ``events`` table's columns and the
shipped mappings are all checked against ``FIELDS`` and ``EVENT_FIELDS``, which are derived
from the models, so a field added here is a field everywhere.

Events are stored in one wide table (a column per field, NULL where a type has no such
field) rather than a JSON payload: the monthly scoring aggregates hundreds of millions of
events by column, and DuckDB compresses the NULLs away (docs/decisions/0003).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from credo.store.schema import EVENT_TYPES

__all__ = [
    "EVENT_FIELDS",
    "EVENT_MODELS",
    "FIELDS",
    "LISTING_REQUIRES",
    "LISTING_REQUIRES_ID",
    "PROVENANCE_COLUMNS",
    "AttributeEvent",
    "BillEvent",
    "ConductEvent",
    "ConnectionEvent",
    "ConsentEvent",
    "CorrectionEvent",
    "CourtJudgmentEvent",
    "EventBase",
    "FieldRule",
    "FieldSpec",
    "LoanEvent",
    "PaymentEvent",
    "RentalEvent",
]

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
NotFutureDate = Annotated[dt.date, Field(json_schema_extra={"not_future": True})]
NotFutureTime = Annotated[dt.datetime, Field(json_schema_extra={"not_future": True})]
NationalId = Annotated[str, Field(pattern=r"^[0-9]{17}[0-9Xx]$")]
"""The shape of a GB 11643 number: an id with letters or of another length is refused at load
(quarantined, masked); one of this shape with a wrong check digit loads, and identity treats
it as unverified (no exact match on it) (docs/decisions/0622)."""

MerchantCategory = Literal[
    "grocery",
    "dining",
    "transport",
    "travel",
    "utilities",
    "education",
    "healthcare",
    "entertainment",
    "luxury",
    "online_shopping",
    "charity",
    "other",
]
Channel = Literal["online", "in_store", "qr", "transfer", "card"]
BillKind = Literal["utility", "rent", "phone", "traffic_fine", "tax"]
LoanEventKind = Literal["opened", "instalment", "default", "closed", "bankruptcy"]
RentalItem = Literal["bike", "car", "hotel", "umbrella", "power_bank", "camera"]
Deposit = Literal["waived", "paid"]
JudgmentStatus = Literal["listed", "satisfied", "revoked", "expired"]
"""``expired``: the listing's fixed term ended (RULES R-BL-3), published by the court or
recorded by Credo's own clock (:func:`credo.rights.court_feed.expire_listings`)."""
AttributeName = Literal[
    "verified_identity", "education", "employer", "occupation", "vehicle", "address", "tenure"
]
ConnectionAction = Literal["added", "removed"]
ConductKind = Literal[
    "elder_care",
    "helping_poor",
    "volunteering",
    "blood_donation",
    "drunk_driving",
    "bribery",
    "fraud",
    "traffic_violation",
]
ConsentAction = Literal[
    "enrol", "leave", "grant", "revoke",
    "grant_sensitive", "revoke_sensitive",  # R-PIPL-3: a separate consent for sensitive data
    "grant_assets", "revoke_assets",  # R-CRR-4: written consent to the use of asset data
]  # fmt: skip
CorrectionAction = Literal["amend", "retract"]
Sex = Literal["F", "M"]


class EventBase(BaseModel):
    """Provenance and the subject's identifiers, common to every event type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_record_id: Annotated[str, Field(min_length=1, max_length=200)]
    occurred_at: NotFutureTime
    # The subject as this source knows them; identity resolution links these to a person.
    subject_ref: str | None = None
    name: str | None = None
    birth_date: Annotated[dt.date | None, Field(json_schema_extra={"not_future": True})] = None
    sex: Sex | None = None
    national_id: NationalId | None = None
    phone: str | None = None
    address: str | None = None


class PaymentEvent(EventBase):
    event_type: Literal["payment"] = "payment"
    amount: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    merchant_category: MerchantCategory
    channel: Channel | None = None


class BillEvent(EventBase):
    event_type: Literal["bill"] = "bill"
    bill_kind: BillKind
    amount: Money
    due_date: dt.date
    paid_date: Annotated[dt.date | None, Field(json_schema_extra={"not_future": True})] = None


class LoanEvent(EventBase):
    """Account opened, one instalment, a default / charge-off, the account closed, or a
    bankruptcy order on it (Metro 2 reports bankruptcy on the account; ``paid_date`` is the
    discharge). Retention keeps a bankruptcy the profile's ``bankruptcy_years`` (FCRA: 10)."""

    event_type: Literal["loan"] = "loan"
    loan_event: LoanEventKind
    account_id: Annotated[str, Field(min_length=1)]
    amount: Money | None = None
    term_months: Annotated[int | None, Field(ge=1, le=600)] = None
    due_date: dt.date | None = None
    paid_date: Annotated[dt.date | None, Field(json_schema_extra={"not_future": True})] = None
    days_past_due: Annotated[int | None, Field(ge=0, le=100_000)] = None


class RentalEvent(EventBase):
    event_type: Literal["rental"] = "rental"
    partner: str
    item: RentalItem
    deposit: Deposit
    returned_on_time: bool
    damage: bool = False
    unpaid_amount: Money = Decimal("0")


LISTING_REQUIRES: dict[str, str] = {
    "dishonest_conduct": "a listing names the trigger it rests on (R-BL-1)",
    "basis_document": "a listing names its enforcement basis document (R-BL-1)",
    "obligation": "a listing states the obligation left unperformed (R-BL-1)",
}
"""Fields a ``listed`` court record must carry (RULES R-BL-1: the legal basis, case number,
issuing body, obligation and performance status; the others are required of every record).
A file's listing must also name the person's identity number (R-BL-5, ``LISTING_REQUIRES_ID``);
a listing the service writes is linked to a known person directly and carries no identifiers."""

LISTING_REQUIRES_ID: dict[str, str] = {
    "national_id": "a listing identifies the person by their identity number, never by name"
    " alone (R-BL-5)",
}


class CourtJudgmentEvent(EventBase):
    """A listing on the court's list of judgment defaulters (fields of RULES.md §2.3)."""

    event_type: Literal["court_judgment"] = "court_judgment"
    court: Annotated[str, Field(min_length=1)]
    case_number: Annotated[str, Field(min_length=1)]
    amount: Money
    listed_on: NotFutureDate
    satisfied_on: Annotated[dt.date | None, Field(json_schema_extra={"not_future": True})] = None
    judgment_status: JudgmentStatus
    dishonest_conduct: str | None = None
    """The trigger of Art. 1 the listing rests on (its legal basis; R-BL-1)."""
    basis_document: Annotated[str | None, Field(min_length=1)] = None
    """The enforcement basis: the judgment or award whose obligation is unperformed (gistId)."""
    basis_issuer: Annotated[str | None, Field(min_length=1)] = None
    """Who issued the basis document (gistUnit), often another court or an arbitration body."""
    obligation: Annotated[str | None, Field(min_length=1)] = None
    """The obligation the basis document imposes (duty); ``amount`` is its sum."""
    performed_amount: Money | None = None
    """How much of the obligation is performed (performedPart): the performance status's sum."""
    notice_served_on: Annotated[dt.date | None, Field(json_schema_extra={"not_future": True})] = (
        None
    )
    """When the court served its notice on the person; a listing counts only after the rules
    profile's ``court_list.grace_months`` from it (R-BL-2)."""
    extension_years: Annotated[int | None, Field(ge=1, le=3)] = None
    """The 1-3 years by which the court extended the fixed term of an aggravated case (R-BL-3)."""

    @model_validator(mode="after")
    def _listing_names_its_basis(self) -> CourtJudgmentEvent:
        if self.judgment_status == "listed":
            for name in LISTING_REQUIRES:
                if getattr(self, name) is None:
                    raise ValueError(f"field {name}: {LISTING_REQUIRES[name]}")
        return self


class AttributeEvent(EventBase):
    event_type: Literal["attribute"] = "attribute"
    attribute: AttributeName
    attribute_value: Annotated[str, Field(min_length=1)]


class ConnectionEvent(EventBase):
    """A contact added or removed; the counterpart is identified as the source knows them."""

    event_type: Literal["connection"] = "connection"
    connection_action: ConnectionAction
    counterpart_ref: str | None = None
    counterpart_name: str | None = None
    counterpart_national_id: NationalId | None = None
    counterpart_phone: str | None = None


class ConductEvent(EventBase):
    """A conduct record for points regimes, issued by an authority with a reference."""

    event_type: Literal["conduct"] = "conduct"
    conduct_kind: ConductKind
    authority: Annotated[str, Field(min_length=1)]
    reference: Annotated[str, Field(min_length=1)]
    reported_by_media: bool = False


class ConsentEvent(EventBase):
    event_type: Literal["consent"] = "consent"
    consent_action: ConsentAction
    partner: str | None = None
    purpose: str | None = None


class CorrectionEvent(EventBase):
    """Amends or retracts an earlier event; events are never edited in place."""

    event_type: Literal["correction"] = "correction"
    target_source: Annotated[str, Field(min_length=1)]
    target_record_id: Annotated[str, Field(min_length=1)]
    correction_action: CorrectionAction
    reason: Annotated[str, Field(min_length=1)]
    amendment: str | None = None  # JSON object of corrected field values, for "amend"


def _by_type(*models: type[EventBase]) -> dict[str, type[EventBase]]:
    """Each model under the type its ``event_type`` names, in the store's order; a model for a
    type the store does not know, or a type without a model, fails at import."""
    by_type = {str(m.model_fields["event_type"].default): m for m in models}
    if set(by_type) != set(EVENT_TYPES) or len(by_type) != len(models):
        raise TypeError(
            f"event models {sorted(by_type)} do not match the store's event types "
            f"{sorted(EVENT_TYPES)} (credo/store/schema.py)"
        )
    return {t: by_type[t] for t in EVENT_TYPES}


EVENT_MODELS = _by_type(
    PaymentEvent, BillEvent, LoanEvent, RentalEvent, CourtJudgmentEvent, AttributeEvent,
    ConnectionEvent, ConductEvent, ConsentEvent, CorrectionEvent,
)  # fmt: skip
"""The typed model of every event type (``credo.store.schema.EVENT_TYPES``)."""

PII_FIELDS = ("national_id", "phone", "counterpart_national_id", "counterpart_phone")
"""Identifiers stored only as keyed hashes (for matching) plus ciphertext (for display)."""

PROVENANCE_COLUMNS = ("event_id", "event_type", "source", "load_id", "row_no", "recorded_at")


@dataclass(frozen=True)
class FieldSpec:
    """One event field as the loader sees it: its kind, SQL type and constraints."""

    name: str
    kind: Literal["str", "money", "int", "bool", "date", "datetime", "enum"]
    sql_type: str
    choices: tuple[str, ...] = ()
    ge: int | None = None
    le: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    not_future: bool = False

    @property
    def pii(self) -> bool:
        return self.name in PII_FIELDS


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _collect(meta: dict[str, Any], items: Any) -> None:
    for m in items:
        for attr in ("ge", "le", "min_length", "pattern"):
            if getattr(m, attr, None) is not None:
                meta[attr] = getattr(m, attr)
        nested = getattr(m, "metadata", None)
        if nested:
            _collect(meta, nested)
        extra = getattr(m, "json_schema_extra", None)
        if isinstance(extra, dict) and extra.get("not_future"):
            meta["not_future"] = True


def _spec(name: str, info: Any) -> FieldSpec:
    meta: dict[str, Any] = {}
    _collect(meta, [info])
    ann = _strip_optional(info.annotation)
    if get_origin(ann) is Annotated:  # e.g. Optional[Money]: constraints sit inside
        ann, *inner = get_args(ann)
        _collect(meta, inner)
    not_future = bool(meta.get("not_future", False))
    if get_origin(ann) is Literal:
        return FieldSpec(name, "enum", "VARCHAR", choices=tuple(get_args(ann)))
    kinds: dict[Any, tuple[Literal["str", "money", "int", "bool", "date", "datetime"], str]] = {
        str: ("str", "VARCHAR"),
        Decimal: ("money", "DECIMAL(18,2)"),
        int: ("int", "BIGINT"),
        bool: ("bool", "BOOLEAN"),
        dt.date: ("date", "DATE"),
        dt.datetime: ("datetime", "TIMESTAMP"),
    }
    kind, sql_type = kinds[ann]
    return FieldSpec(
        name,
        kind,
        sql_type,
        ge=meta.get("ge"),
        le=meta.get("le"),
        min_length=meta.get("min_length"),
        pattern=meta.get("pattern"),
        not_future=not_future,
    )


@dataclass(frozen=True)
class FieldRule:
    """Whether an event type requires a field, and the value it takes when a source omits it."""

    required: bool
    default: Any = None


def _catalogue() -> tuple[dict[str, FieldSpec], dict[str, dict[str, FieldRule]]]:
    fields: dict[str, FieldSpec] = {}
    per_type: dict[str, dict[str, FieldRule]] = {}
    for type_name, model in EVENT_MODELS.items():
        per_type[type_name] = {}
        for name, info in model.model_fields.items():
            if name == "event_type":
                continue
            spec = _spec(name, info)
            known = fields.setdefault(name, spec)
            if known != spec:
                raise TypeError(f"field {name!r} is declared differently by {type_name!r}")
            required = info.is_required()
            per_type[type_name][name] = FieldRule(required, None if required else info.default)
    return fields, per_type


FIELDS, EVENT_FIELDS = _catalogue()
"""``FIELDS``: every field by name. ``EVENT_FIELDS``: per event type, field -> its rule."""
