"""The persons ``credo demo`` offers to sign in as, each with a one-time login code."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from credo.access import SCOPES, create_key, create_partner, issue_login_code
from credo.sim.partners import PARTNERS
from credo.store.db import Store
from credo.store.rows import one, rows

__all__ = ["DEMO_CODE_TTL", "DemoLogin", "DemoPartner", "demo_logins", "demo_partner"]

# The demo's database is local and made up: its printed codes last a working day, not the
# 15 minutes a real person's code does, so the pages can be tried after the run is read.
DEMO_CODE_TTL = dt.timedelta(hours=12)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    person: str
    name: str | None
    score: float
    band: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_LATEST = """
    WITH last AS (
        SELECT s.*, row_number() OVER (PARTITION BY s.person_id ORDER BY s.as_of DESC, r.seq DESC)
            AS k
        FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id
    ), named AS (
        SELECT p.person_id, mode(e.name) AS name FROM event_persons p
        JOIN events e ON e.event_id = p.event_id WHERE p.role = 'subject' AND e.name IS NOT NULL
        GROUP BY ALL
    )
    SELECT l.person_id, n.name, l.score, l.band FROM last l LEFT JOIN named n USING (person_id)
    WHERE l.k = 1 AND {where} ORDER BY {order}, l.person_id LIMIT 1
"""
_NOT_LISTED = "len(l.court_listings) = 0"
# For each example, the choices are tried in turn until one finds a person: (role, where, order).
_EXAMPLES = (
    (
        ("an excellent score", f"l.band = 'excellent' AND {_NOT_LISTED}", "l.score DESC"),
        ("the best score", _NOT_LISTED, "l.score DESC"),  # when no one is excellent
    ),
    (
        ("a new user", "l.not_enough_history", "abs(l.score - 550)"),
        ("a new user", "TRUE", "abs(l.score - 550)"),  # when everyone has enough history
    ),
    (("on the court list", "len(l.court_listings) > 0", "l.score"),),
)


def demo_logins(store: Store) -> list[DemoLogin]:
    """One person with an excellent score (else the best score), one new user near 550, one on
    the court list (where the population has one), each with a fresh login code (valid 12
    hours, once)."""
    found: list[DemoLogin] = []
    for choices in _EXAMPLES:
        for role, where, order in choices:
            rows = store.con.execute(_LATEST.format(where=where, order=order)).fetchall()
            if not rows or rows[0][0] in {f.person for f in found}:
                continue
            person, name, score, band = rows[0]
            code = issue_login_code(store, person, actor="demo", ttl=DEMO_CODE_TTL)
            found.append(DemoLogin(role, person, name, float(score), band, code))
            break
    return found


@dataclass(frozen=True)
class DemoPartner:
    """A partner ready to call the API: its new key and a person who consented to it."""

    partner_id: str
    name: str
    key: str
    person: str | None
    consent: str | None
    product: str
    registered: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The newest grant or revoke per person for one partner and purpose: a grant is active.
_GRANTED = """
    WITH newest AS (
        SELECT p.person_id, e.source_record_id, e.consent_action, row_number() OVER (
            PARTITION BY p.person_id ORDER BY e.occurred_at DESC, e.event_id DESC) AS k
        FROM events e JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'
        WHERE e.event_type = 'consent' AND e.consent_action IN ('grant', 'revoke')
          AND e.partner = ? AND e.purpose = ?
    )
    SELECT n.person_id, n.source_record_id AS consent FROM newest n
    WHERE n.k = 1 AND n.consent_action = 'grant'
      AND n.person_id IN (SELECT person_id FROM score_snapshots)
    ORDER BY n.person_id LIMIT 1
"""


def demo_partner(
    store: Store, partner_id: str = "evcard", product: str = "car_rental", purpose: str = "rental"
) -> DemoPartner:
    """Register every partner the generated population names (once), give ``partner_id`` a
    new key with every scope, and find a scored person with an active grant to it."""
    known = {r["partner_id"] for r in rows(store.con, "SELECT partner_id FROM partners")}
    added = tuple(p for p in PARTNERS if p not in known)
    for pid in added:
        create_partner(store, pid, PARTNERS[pid], actor="demo")
    key = create_key(store, partner_id, list(SCOPES), actor="demo")
    found = one(store.con, _GRANTED, [partner_id, purpose])
    return DemoPartner(
        partner_id,
        PARTNERS[partner_id],
        str(key.key),
        found["person_id"] if found else None,
        found["consent"] if found else None,
        product,
        added,
    )
