"""Policies: bands, the court list's effects, points regimes (SPEC S3, S5, S6).

Policies are versioned YAML files checked against a schema (:func:`load_policy`); regimes compile
to SQL (:func:`ledger_sql`). The monthly run (:mod:`credo.scoring`) applies them.
"""

from credo.policy.regime import ledger_sql
from credo.policy.schema import (
    Band,
    CourtList,
    Grade,
    LoadedPolicy,
    PointsRegime,
    Rule,
    ScoringPolicy,
    load_policy,
    policy_dirs,
)

__all__ = [
    "Band",
    "CourtList",
    "Grade",
    "LoadedPolicy",
    "PointsRegime",
    "Rule",
    "ScoringPolicy",
    "ledger_sql",
    "load_policy",
    "policy_dirs",
]
