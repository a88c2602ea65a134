"""A person's standing under points regimes (SPEC S5, issue 14 item 8, docs/decisions/0535).

A regime run writes every enrolled person's balance and grade and a ledger entry per event a
rule matched. :func:`regime_standings` reads them back for one person (the latest run of each
regime): balance, grade with its consequences, and each entry naming the event and the rule,
in the rule's own words. ``credo explain``, the person's page and ``credo score --policy``
show them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from credo.errors import ConfigError
from credo.policy.schema import PointsRegime, load_policy
from credo.store.db import Store
from credo.store.rows import rows

__all__ = ["RegimeStanding", "lowest_standings", "regime_standings"]


@dataclass(frozen=True)
class RegimeStanding:
    regime: str
    run_id: str
    as_of: dt.date
    person_id: str
    start: int | None
    balance: int
    grade: str
    consequences: str
    ledger: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_LATEST = (
    "SELECT b.run_id, b.regime, b.as_of, b.balance, b.grade, b.person_id FROM points_balances b"
    " JOIN score_runs r ON r.run_id = b.run_id WHERE b.person_id = ?"
    " QUALIFY row_number() OVER (PARTITION BY b.regime ORDER BY r.as_of DESC, r.seq DESC) = 1"
    " ORDER BY b.regime"
)
_LEDGER = (
    "SELECT l.event_id, e.event_type, l.source, l.source_record_id, l.occurred_at, l.rule,"
    " l.points FROM points_ledger l LEFT JOIN events e ON e.event_id = l.event_id"
    " WHERE l.run_id = ? AND l.person_id = ? ORDER BY l.occurred_at, l.event_id"
)


def _regime(name: str) -> PointsRegime | None:
    try:
        policy = load_policy(name).policy
    except ConfigError:  # a regime no longer shipped: its runs still read back
        return None
    return policy if isinstance(policy, PointsRegime) else None


def _standing(store: Store, row: dict[str, Any]) -> RegimeStanding:
    regime = _regime(row["regime"])
    words = {r.name: r.description or r.name for r in regime.rules} if regime else {}
    grades = {g.grade: g.consequences for g in regime.grades} if regime else {}
    ledger = [
        e | {"rule_text": words.get(e["rule"], e["rule"])}
        for e in rows(store.con, _LEDGER, [row["run_id"], row["person_id"]])
    ]
    return RegimeStanding(
        regime=row["regime"],
        run_id=row["run_id"],
        as_of=row["as_of"],
        person_id=row["person_id"],
        start=regime.start if regime else None,
        balance=row["balance"],
        grade=row["grade"],
        consequences=grades.get(row["grade"], ""),
        ledger=ledger,
    )


def regime_standings(store: Store, person_id: str) -> list[RegimeStanding]:
    """The person's balance, grade and ledger in the latest run of every regime that ran."""
    return [_standing(store, r) for r in rows(store.con, _LATEST, [person_id])]


def lowest_standings(store: Store, run_id: str, limit: int = 5) -> list[RegimeStanding]:
    """The ``limit`` lowest balances of a regime run that have ledger entries, with them."""
    found = rows(
        store.con,
        "SELECT run_id, regime, as_of, balance, grade, person_id FROM points_balances b"
        " WHERE run_id = ? AND EXISTS (SELECT 1 FROM points_ledger l WHERE l.run_id = b.run_id"
        " AND l.person_id = b.person_id) ORDER BY balance, person_id LIMIT ?",
        [run_id, limit],
    )
    return [_standing(store, r) for r in found]
