"""The scored person's rights and the partner service's rules (SPEC S7, S8, S10, S12).

A library over the store, used by the API (:mod:`credo.api`) and the CLI: access (partners,
scoped API keys, login codes, session tokens), consent and freeze, decisions, risk reports and
outcomes, disputes with corrections and partner notices, the person's file and alert feed.
Every read and write of personal data appends a hash-chained audit entry.
"""

from credo.rights.access import (
    SCOPES,
    ApiKey,
    Partner,
    authenticate_key,
    create_key,
    create_partner,
    exchange_login_code,
    issue_login_code,
    record_failed_auth,
    revoke_key,
    verify_session,
)
from credo.rights.base import append_event, audited_read
from credo.rights.consent import (
    Consent,
    active_consent,
    consents,
    freeze,
    is_frozen,
    record_consent,
    unfreeze,
)
from credo.rights.decisions import Decision, decide, record_outcome, risk_report
from credo.rights.disputes import (
    Dispute,
    expire_disputes,
    get_dispute,
    list_disputes,
    open_dispute,
    resolve_dispute,
)
from credo.rights.errors import AuthError, ForbiddenError, FrozenError
from credo.rights.file import feed, person_file
from credo.rights.webhooks import DeliveryReport, deliver_webhooks

__all__ = [
    "SCOPES",
    "ApiKey",
    "AuthError",
    "Consent",
    "Decision",
    "DeliveryReport",
    "Dispute",
    "ForbiddenError",
    "FrozenError",
    "Partner",
    "active_consent",
    "append_event",
    "audited_read",
    "authenticate_key",
    "consents",
    "create_key",
    "create_partner",
    "decide",
    "deliver_webhooks",
    "exchange_login_code",
    "expire_disputes",
    "feed",
    "freeze",
    "get_dispute",
    "is_frozen",
    "issue_login_code",
    "list_disputes",
    "open_dispute",
    "person_file",
    "record_consent",
    "record_failed_auth",
    "record_outcome",
    "resolve_dispute",
    "revoke_key",
    "risk_report",
    "unfreeze",
    "verify_session",
]
