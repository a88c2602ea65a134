"""What a finished score run produced, counted or read back: for the CLI's one-line reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from credo.errors import NotFoundError
from credo.store.rows import one, rows

if TYPE_CHECKING:
    from credo.store.db import Store

__all__ = ["RescoredSnapshot", "rescored_snapshot", "run_summary"]


def run_summary(store: Store, run_id: str, kind: str) -> dict[str, dict[str, int]]:
    """Persons per grade for a points regime's run, per band (lowest band first) otherwise."""
    if kind == "regime":
        grades = rows(
            store.con,
            "SELECT grade, count(*) AS n FROM points_balances WHERE run_id = ? GROUP BY 1"
            " ORDER BY 1",
            [run_id],
        )
        return {"grades": {r["grade"]: r["n"] for r in grades}}
    bands = rows(
        store.con,
        "SELECT band, count(*) AS n, min(score) FROM score_snapshots WHERE run_id = ?"
        " GROUP BY 1 ORDER BY 3",
        [run_id],
    )
    return {"bands": {r["band"]: r["n"] for r in bands}}


@dataclass(frozen=True)
class RescoredSnapshot:
    """The one snapshot an off-cycle re-score wrote."""

    score: float
    band: str
    reasons: list[str]


def rescored_snapshot(store: Store, run_id: str) -> RescoredSnapshot:
    row = one(
        store.con,
        "SELECT score, band, reason_codes FROM score_snapshots WHERE run_id = ?",
        [run_id],
    )
    if row is None:
        raise NotFoundError(f"score run {run_id!r} wrote no snapshot")
    return RescoredSnapshot(score=row["score"], band=row["band"], reasons=row["reason_codes"])
