"""The scored person's rights and the partner service's rules (SPEC S7, S8, S10, S12).

A library over the store, used by the API (:mod:`credo.api`) and the CLI: consent and freeze,
decisions, risk reports and outcomes, disputes with corrections and partner notices, the
court's feed, adverse-action notices, human reviews, the person's file and alert feed. Who may
call the service is :mod:`credo.access`; notices to partners go out through
:mod:`credo.webhooks`.
Every read and write of personal data appends a hash-chained audit entry.
"""

from credo.rights.audited import append_event, audited_read
from credo.rights.consent import (
    Consent,
    active_consent,
    consents,
    freeze,
    is_frozen,
    record_consent,
    unfreeze,
)
from credo.rights.court_feed import (
    CourtUpdate,
    apply_court_feed,
    expire_listings,
    record_court_update,
)
from credo.rights.decisions import Decision, decide
from credo.rights.disputes import (
    Dispute,
    expire_disputes,
    get_dispute,
    list_disputes,
    open_dispute,
    resolve_dispute,
)
from credo.rights.file import feed, person_file
from credo.rights.notices import adverse_notices
from credo.rights.reports import record_outcome, risk_report
from credo.rights.reviews import Review, decide_review, list_reviews, request_review

__all__ = [
    "Consent",
    "CourtUpdate",
    "Decision",
    "Dispute",
    "Review",
    "active_consent",
    "adverse_notices",
    "append_event",
    "apply_court_feed",
    "audited_read",
    "consents",
    "decide",
    "decide_review",
    "expire_disputes",
    "expire_listings",
    "feed",
    "freeze",
    "get_dispute",
    "is_frozen",
    "list_disputes",
    "list_reviews",
    "open_dispute",
    "person_file",
    "record_consent",
    "record_court_update",
    "record_outcome",
    "request_review",
    "resolve_dispute",
    "risk_report",
    "unfreeze",
]
