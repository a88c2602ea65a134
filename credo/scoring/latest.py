"""A person's latest score: the one read that decisions, reports, re-scores and explanations use.

"Latest" is the newest run's date, then the newest run of that date (``seq``), monthly and
off-cycle alike: an off-cycle re-score after a correction counts at once. The latest *scheduled*
snapshot (a monthly run's) is the date a correction re-score stands at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from credo.store.db import Store
from credo.store.rows import one

__all__ = ["LatestSnapshot", "latest_scheduled", "latest_snapshot"]


@dataclass(frozen=True)
class LatestSnapshot:
    """The person's score row and the run that made it (what it used and when)."""

    run_id: str
    as_of: dt.date
    known_at: dt.datetime
    score: float
    band: str
    court_listings: tuple[str, ...]
    model_id: str | None
    policy_name: str
    policy_version: str
    previous_run_id: str | None
    kind: str = "monthly"

    @property
    def scoring_policy(self) -> str:
        """``name version`` of the policy, as decisions record it."""
        return f"{self.policy_name} {self.policy_version}"


_SQL = (
    "SELECT s.run_id, r.as_of, r.known_at, s.score, s.band, s.court_listings,"
    " r.model_id, r.policy_name, r.policy_version, r.previous_run_id, r.kind"
    " FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id"
    " WHERE s.person_id = ?{where} ORDER BY r.as_of DESC, r.seq DESC LIMIT 1"
)
_LATEST = _SQL.format(where="")
_ON_OR_BEFORE = _SQL.format(where=" AND r.as_of <= ?")
_SCHEDULED = _SQL.format(where=" AND r.kind = 'monthly'")


def latest_snapshot(
    store: Store, person_id: str, as_of: dt.date | None = None
) -> LatestSnapshot | None:
    """The person's newest snapshot, on or before ``as_of`` if given; ``None`` if never scored."""
    if as_of is None:
        row = one(store.con, _LATEST, [person_id])
    else:
        row = one(store.con, _ON_OR_BEFORE, [person_id, as_of])
    return _snapshot(row)


def latest_scheduled(store: Store, person_id: str) -> LatestSnapshot | None:
    """The person's snapshot in the newest monthly run that scored them; ``None`` if none."""
    return _snapshot(one(store.con, _SCHEDULED, [person_id]))


def _snapshot(row: dict[str, Any] | None) -> LatestSnapshot | None:
    if row is None:
        return None
    return LatestSnapshot(
        **{**row, "score": float(row["score"]), "court_listings": tuple(row["court_listings"])}
    )
