"""Points regimes' runs (SPEC S5): balances, grades and a ledger naming event and rule.

A regime is a policy file (``policies/suining-2010.yaml``); its rules compile to SQL
(:func:`credo.policy.regime.ledger_sql`), and a run writes the ledger entries of every enrolled
person, then each one's balance and grade.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from credo.features import PointInTime, enrolled_sql
from credo.policy.regime import ledger_sql
from credo.policy.schema import LoadedPolicy, PointsRegime
from credo.scoring.runs import ScoreRun, write_run
from credo.store.db import Store
from credo.store.rows import value

__all__ = ["run_regime"]


def _grade_sql(regime: PointsRegime, balance: str) -> str:
    """The grade of ``balance``: the first grade whose minimum it reaches, else the last."""
    grades = " ".join(
        f"WHEN {balance} >= {g.min} THEN '{g.grade}'" for g in regime.grades if g.min is not None
    )
    return f"CASE {grades} ELSE '{regime.grades[-1].grade}' END"


def run_regime(
    store: Store, as_of: dt.date, loaded: LoadedPolicy, *, known_at: dt.datetime
) -> ScoreRun:
    """A points regime's balances, grades and ledger for every enrolled person."""
    regime = loaded.policy
    assert isinstance(regime, PointsRegime)
    pit = PointInTime(as_of, known_at)
    enrolled = enrolled_sql(pit)
    ledger = ledger_sql(regime, pit)
    name = regime.name

    def build(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
        con.execute(
            "INSERT INTO points_ledger SELECT ?, l.person_id, ?, l.event_id, l.source,"
            f" l.source_record_id, l.occurred_at, l.rule, l.points FROM ({ledger}) l"
            f" JOIN ({enrolled}) e ON e.person_id = l.person_id",
            [run_id, name],
        )
        con.execute(
            f"INSERT INTO points_balances SELECT ?, person_id, ?, ?, b, {_grade_sql(regime, 'b')}"
            f" FROM (SELECT e.person_id, {regime.start} + coalesce(sum(l.points), 0) AS b"
            f"  FROM ({enrolled}) e LEFT JOIN points_ledger l ON l.person_id = e.person_id"
            "   AND l.run_id = ? GROUP BY e.person_id) x",
            [run_id, name, as_of, run_id],
        )
        return int(value(con, "SELECT count(*) FROM points_balances WHERE run_id = ?", [run_id]))

    return write_run(
        store, "regime", pit, loaded, model_id=None, previous=None, person=None, build=build
    )
