"""Policies: bands, the court list's effects, points regimes (SPEC S3, S5, S6).

Policies are versioned YAML files checked against a schema (:func:`load_policy`); regimes compile
to SQL (:func:`ledger_sql`). Jurisdiction profiles (:func:`load_rules`) hold the deadlines
and rights of RULES.md. The monthly run (:mod:`credo.scoring`) applies them.
"""

from credo.policy.regime import ledger_sql
from credo.policy.rules import RulesProfile, active_rules, load_rules
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
    "RulesProfile",
    "ScoringPolicy",
    "active_rules",
    "ledger_sql",
    "load_policy",
    "load_rules",
    "policy_dirs",
]
