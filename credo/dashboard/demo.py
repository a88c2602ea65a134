"""The persons ``credo demo`` offers to sign in as, each with a one-time login code."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from credo.access import issue_login_code
from credo.store.db import Store

__all__ = ["DEMO_CODE_TTL", "DemoLogin", "demo_logins"]

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
