"""Consent and freeze: the person's own choices (SPEC S10, RULES R-PIPL-3, R-CRR-4, R-FCRA-15).

Consent is written as ``consent`` events (enrol / leave; grant / revoke per partner and
purpose), so the file shows every choice and scoring reads enrolment from the same events.
A grant is active while no later revoke for the same partner and purpose exists; the grant's
record id is the consent reference the person hands the partner. Two consents are records of
their own, never implied by a grant (decision 0690): ``grant_sensitive`` per partner and purpose
lets a report give that partner sensitive data (R-PIPL-3), and ``grant_assets``, given only
with the digest of the consequences statement the person was shown, lets scoring use their
asset data (R-CRR-4). Freezes are a small table of freeze / unfreeze actions; the latest one
wins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from credo.errors import ForbiddenError, FrozenError, InputError, NotFoundError
from credo.ingest.events import ConsentEvent
from credo.purposes import PURPOSES
from credo.rights.audited import append_event, person_exists
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.rows import insert, one, rows, value

__all__ = [
    "ADULT_AGE",
    "ASSET_CONSEQUENCES",
    "ASSET_CONSEQUENCES_VERSION",
    "ASSET_PURPOSE",
    "CONSENT_SOURCE",
    "Consent",
    "ConsentActionName",
    "active_consent",
    "active_sensitive_consent",
    "birth_date",
    "consent_refused",
    "consents",
    "freeze",
    "has_asset_consent",
    "is_frozen",
    "is_minor",
    "is_restricted",
    "minor_refused",
    "record_consent",
    "require_consent",
    "require_not_frozen",
    "require_not_restricted",
    "require_sensitive_consent",
    "unfreeze",
]

CONSENT_SOURCE = "credo_person"
"""``source`` of the consent events persons write through the service."""


ConsentActionName = Literal[
    "enrol", "leave", "grant", "revoke", "grant_sensitive", "revoke_sensitive", "grant_assets",
    "revoke_assets",
]  # fmt: skip
_PER_PARTNER = ("grant", "revoke", "grant_sensitive", "revoke_sensitive")
_GRANTS = ("grant", "grant_sensitive", "grant_assets")
_REVOKE_OF: dict[str, ConsentActionName] = {
    "grant": "revoke", "grant_sensitive": "revoke_sensitive", "grant_assets": "revoke_assets"
}  # fmt: skip

ASSET_CONSEQUENCES = (
    "If you consent, Credo uses your asset data (tax you paid, vehicles registered to you) in"
    " your score. It can raise or lower your score, and partners who get a decision or report"
    " about you see its effect. Without your consent this data is withheld: it is not scored"
    " and not reported, and your score is made from the rest of your file. You can withdraw"
    " this consent at any time; the next score is then made without it."
    " 如您同意，Credo 将在评分中使用您的资产信息（纳税记录、名下车辆）。这可能提高或降低您的分数，"
    "获得您的决定或报告的合作方会看到其影响。未经您同意，这些信息不被评分、不被报告。"
    "您可随时撤回同意，此后的评分不再使用这些信息。"
)
"""What a person is told before consenting to the use of asset data (R-CRR-4: written consent
after being told the consequences), in English and Chinese."""

ASSET_CONSEQUENCES_VERSION = hashlib.sha256(ASSET_CONSEQUENCES.encode()).hexdigest()[:16]
"""The statement's digest: a ``grant_assets`` names it, so the record shows what was read."""

ASSET_PURPOSE = "asset_data"
"""The ``purpose`` of an asset consent: ``asset_data:<statement digest>``."""


@dataclass(frozen=True)
class Consent:
    consent_id: str
    action: str
    partner: str | None
    purpose: str | None
    at: dt.datetime
    active: bool


def record_consent(
    store: Store,
    person_id: str,
    action: ConsentActionName,
    *,
    partner: str | None = None,
    purpose: str | None = None,
    acknowledged: str | None = None,
    now: dt.datetime | None = None,
) -> Consent:
    """Record one choice. ``acknowledged``: for ``grant_assets``, the digest of the
    consequences statement the person was shown (:data:`ASSET_CONSEQUENCES_VERSION`); any
    other value is refused, so no client can grant it without the statement (no pre-ticking)."""
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    if action == "grant_assets" and acknowledged != ASSET_CONSEQUENCES_VERSION:
        raise InputError(
            f"field acknowledged: a consent to the use of asset data names the consequences"
            f" statement the person read ({ASSET_CONSEQUENCES_VERSION!r}), got {acknowledged!r}",
            hint="show the person GET /v1/me/consents/assets and send its version",
        )
    if action in _PER_PARTNER:
        if purpose not in PURPOSES:
            raise InputError(f"field purpose: must be one of {list(PURPOSES)}")
        if not partner or not store.scalar(
            "SELECT count(*) FROM partners WHERE partner_id = ?", [partner]
        ):
            raise InputError(f"field partner: no partner {partner!r}")
    elif action in ("grant_assets", "revoke_assets"):
        partner, purpose = None, f"{ASSET_PURPOSE}:{ASSET_CONSEQUENCES_VERSION}"
    else:
        partner = purpose = None
    at = now_or(now)
    consent_id = new_id("consent")
    event = ConsentEvent(
        source_record_id=consent_id,
        occurred_at=at,
        consent_action=action,
        partner=partner,
        purpose=purpose,
    )
    entry = AuditEntry(
        f"person:{person_id}", f"consent.{action}", f"person:{person_id}", "consent",
        {"partner": partner, "purpose": purpose, "consent_id": consent_id},
    )  # fmt: skip
    # Leaving ends the lawful basis of every disclosure (R-GDPR-6a): the grants in force are
    # revoked in the same write, so no partner is decided on the last score.
    grants = [c for c in consents(store, person_id) if c.action in _GRANTS and c.active]
    with store.write(entry) as con:
        append_event(con, event, source=CONSENT_SOURCE, person_id=person_id, recorded_at=at)
        for grant in grants if action == "leave" else []:
            revoke = ConsentEvent(
                source_record_id=new_id("consent"), occurred_at=at,
                consent_action=_REVOKE_OF[grant.action],
                partner=grant.partner, purpose=grant.purpose,
            )  # fmt: skip
            append_event(con, revoke, source=CONSENT_SOURCE, person_id=person_id, recorded_at=at)
    return Consent(consent_id, action, partner, purpose, at, action in (*_GRANTS, "enrol"))


def consents(store: Store, person_id: str) -> list[Consent]:
    """Every consent event about the person, oldest first, with whether each grant is active."""
    events = rows(
        store.con,
        "SELECT e.source_record_id AS consent_id, e.consent_action AS action, e.partner,"
        " e.purpose, e.occurred_at AS at FROM events e JOIN event_persons p"
        " ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE p.person_id = ? AND e.event_type = 'consent' ORDER BY e.occurred_at, e.event_id",
        [person_id],
    )

    def subject(e: dict[str, Any]) -> tuple[str, str | None, str | None]:
        """What a consent is about: a partner and purpose (ordinary or sensitive), the use of
        asset data, or the enrolment itself."""
        action = str(e["action"])
        if action in ("grant", "revoke"):
            return ("partner", e["partner"], e["purpose"])
        if action in ("grant_sensitive", "revoke_sensitive"):
            return ("sensitive", e["partner"], e["purpose"])
        if action in ("grant_assets", "revoke_assets"):
            return ("assets", None, None)
        return ("enrolment", None, None)

    latest = {subject(e): e["consent_id"] for e in events}
    return [
        Consent(
            **e,
            active=e["action"] in (*_GRANTS, "enrol") and latest[subject(e)] == e["consent_id"],
        )
        for e in events
    ]


def active_consent(store: Store, person_id: str, partner: str, purpose: str) -> str | None:
    """The active grant's reference for this partner and purpose, if any: the newest grant or
    revoke for them decides (the order of :func:`consents`). Every decision and report asks,
    so the query reads that one row rather than the person's whole consent history."""
    return _newest_grant(store, person_id, partner, purpose, "grant", "revoke")


def _newest_grant(
    store: Store, person_id: str, partner: str, purpose: str, grant: str, revoke: str
) -> str | None:
    """The reference of the newest ``grant`` for this partner and purpose unless a ``revoke``
    came after it: the one row a decision or report reads, not the whole history."""
    newest = one(
        store.con,
        "SELECT e.source_record_id, e.consent_action FROM events e"
        " WHERE e.event_type = 'consent' AND e.consent_action IN (?, ?)"
        " AND e.partner = ? AND e.purpose = ? AND e.event_id IN"
        " (SELECT event_id FROM event_persons WHERE person_id = ? AND role = 'subject')"
        " ORDER BY e.occurred_at DESC, e.event_id DESC LIMIT 1",
        [grant, revoke, partner, purpose, person_id],
    )
    if newest is None or newest["consent_action"] != grant:
        return None
    return str(newest["source_record_id"])


def active_sensitive_consent(
    store: Store, person_id: str, partner: str, purpose: str
) -> str | None:
    """The active separate consent to give this partner sensitive data for this purpose
    (R-PIPL-3), if any: its own record, never implied by the ordinary grant."""
    return _newest_grant(store, person_id, partner, purpose, "grant_sensitive", "revoke_sensitive")


def require_sensitive_consent(store: Store, person_id: str, partner: str, purpose: str) -> str:
    """The separate consent reference, or ``ForbiddenError`` naming what is missing."""
    active = active_sensitive_consent(store, person_id, partner, purpose)
    if active is None:
        raise ForbiddenError(
            f"no separate consent from this person to give partner {partner!r} sensitive data"
            f" (financial accounts) for purpose {purpose!r}: the ordinary consent does not cover"
            " it",
            hint="the person grants it on its own (action grant_sensitive), or ask without the"
            " sensitive section",
        )
    return active


def has_asset_consent(store: Store, person_id: str) -> bool:
    """Whether the person's newest asset-data choice is a written grant (R-CRR-4)."""
    newest = value(
        store.con,
        "SELECT e.consent_action FROM events e WHERE e.event_type = 'consent'"
        " AND e.consent_action IN ('grant_assets', 'revoke_assets') AND e.event_id IN"
        " (SELECT event_id FROM event_persons WHERE person_id = ? AND role = 'subject')"
        " ORDER BY e.occurred_at DESC, e.event_id DESC LIMIT 1",
        [person_id],
    )
    return bool(newest == "grant_assets")


def require_consent(
    store: Store, person_id: str, partner: str, purpose: str, consent_id: str | None = None
) -> str:
    """The active consent reference, or ``ForbiddenError`` (the same for unknown persons, so a
    partner cannot probe who is on file)."""
    active = active_consent(store, person_id, partner, purpose)
    if active is None or (consent_id is not None and consent_id != active):
        raise consent_refused(partner, purpose, consent_id, active)
    return active


def consent_refused(
    partner: str, purpose: str, given: str | None, active: str | None
) -> ForbiddenError:
    """Why a consent check failed. A wrong reference is named as such only when the person has
    an active grant for this partner and purpose: the partner then already holds their consent,
    so saying so reveals nothing; otherwise the answer is the same whether or not the person
    exists (a partner cannot probe who is on file)."""
    if active is None:
        return ForbiddenError(
            f"no active consent from this person for partner {partner!r} and purpose {purpose!r}",
            hint="the person grants consent per partner and purpose",
        )
    return ForbiddenError(
        f"consent reference {given!r} is not the person's active consent for partner "
        f"{partner!r} and purpose {purpose!r}",
        hint="send the reference of the person's latest grant (a new grant gets a new one)",
    )


def is_frozen(store: Store, person_id: str) -> bool:
    newest = value(
        store.con,
        "SELECT action FROM freezes WHERE person_id = ? ORDER BY changed_at DESC, rowid DESC"
        " LIMIT 1",
        [person_id],
    )
    return bool(newest == "freeze")


def require_not_frozen(store: Store, person_id: str) -> None:
    if is_frozen(store, person_id):
        raise FrozenError(
            "the person has frozen their file: no new decisions or reports",
            hint="the person can lift the freeze",
        )


RESTRICTED_PERSONS = (
    "SELECT person_id FROM restrictions WHERE true{where} QUALIFY row_number() OVER"
    " (PARTITION BY person_id ORDER BY changed_at DESC, rowid DESC) = 1 AND action = 'restrict'"
)
"""Persons whose newest restriction action is ``restrict``; ``{where}`` as in
:data:`BIRTH_DATES` (``AND person_id = ?``)."""


def is_restricted(store: Store, person_id: str) -> bool:
    found = store.con.execute(
        RESTRICTED_PERSONS.format(where=" AND person_id = ?"), [person_id]
    ).fetchone()
    return found is not None


RESTRICTED = (
    "the person has restricted the processing of their data: no new decisions, reports or outcomes"
)


def require_not_restricted(store: Store, person_id: str) -> None:
    if is_restricted(store, person_id):
        raise FrozenError(RESTRICTED, hint="the person can lift the restriction")


ADULT_AGE = 18
"""Credo gives no decision or report about a person younger than this (PRC Civil Code Art. 17;
most US states; decision 0646)."""


BIRTH_DATES = (
    "SELECT person_id, birth_date FROM (SELECT p.person_id, e.birth_date, count(*) AS n"
    " FROM events e JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
    " WHERE e.birth_date IS NOT NULL{where} GROUP BY ALL) QUALIFY row_number() OVER"
    " (PARTITION BY person_id ORDER BY n DESC, birth_date) = 1"
)
"""Each person's birth date as their records most often give it (one mistyped record does not
decide; a tie goes to the earliest date, so the answer never depends on scan order). ``{where}``
is empty for everyone, or ``AND p.person_id = ?`` for one person."""


def birth_date(store: Store, person_id: str) -> dt.date | None:
    """The person's birth date (:data:`BIRTH_DATES`), or ``None`` when no record gives one."""
    found = store.con.execute(
        BIRTH_DATES.format(where=" AND p.person_id = ?"), [person_id]
    ).fetchone()
    born = found[1] if found else None
    return born if isinstance(born, dt.date) else None


def is_minor(born: dt.date | None, on: dt.date) -> bool:
    if born is None:
        return False
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return years < ADULT_AGE


def minor_refused() -> ForbiddenError:
    return ForbiddenError(
        f"the person is under {ADULT_AGE}: Credo gives no decision or report about a minor",
        hint="a minor's file is kept for the person's own access only",
    )


def _set_freeze(store: Store, person_id: str, action: str, now: dt.datetime | None) -> None:
    if not person_exists(store, person_id):
        raise NotFoundError(f"no person {person_id!r}")
    entry = AuditEntry(f"person:{person_id}", f"file.{action}", f"person:{person_id}", "freeze")
    with store.write(entry) as con:
        insert(
            con, "freezes", {"person_id": person_id, "action": action, "changed_at": now_or(now)}
        )


def freeze(store: Store, person_id: str, *, now: dt.datetime | None = None) -> None:
    """Freeze the file at once (R-FCRA-15 asks for one business day at most)."""
    _set_freeze(store, person_id, "freeze", now)


def unfreeze(store: Store, person_id: str, *, now: dt.datetime | None = None) -> None:
    _set_freeze(store, person_id, "unfreeze", now)
