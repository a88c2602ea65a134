"""Points regimes as SQL: each known event matched to the first rule whose fields it equals.

The regime file is the whole definition (rules, points, grades); this module only compiles its
rules to one ``CASE`` per column, so the ledger names, for every entry, the event and the rule.
"""

from __future__ import annotations

from credo.features.pit import PointInTime
from credo.features.sql import known_events
from credo.policy.schema import PointsRegime
from credo.sql import dialect

__all__ = ["ledger_sql"]


def ledger_sql(regime: PointsRegime, pit: PointInTime, *, dialect_name: str = "duckdb") -> str:
    """Ledger entries: person_id, event_id, source, source_record_id, occurred_at, rule, points.

    With ``retention_years`` set, deductions older than that many years drop out (credits stay).
    """
    d = dialect(dialect_name)
    conditions = [
        " AND ".join(f"k.{field} = {d.literal(value)}" for field, value in rule.when.items())
        for rule in regime.rules
    ]
    rule_case = " ".join(
        f"WHEN {c} THEN {d.string(r.name)}" for c, r in zip(conditions, regime.rules, strict=True)
    )
    points_case = " ".join(
        f"WHEN {c} THEN {r.points}" for c, r in zip(conditions, regime.rules, strict=True)
    )
    kept = "TRUE"
    if regime.retention_years is not None:
        cutoff = PointInTime(pit.as_of, pit.known_at, regime.retention_years).retention_cutoff
        kept = f"(points >= 0 OR occurred_at >= {d.date(cutoff)})"
    source = known_events(d, pit, [regime.event_type])
    return (
        "SELECT person_id, event_id, source, source_record_id, occurred_at, rule, points FROM (\n"
        "  SELECT k.person_id, k.event_id, k.source, k.source_record_id, k.occurred_at,\n"
        f"    CASE {rule_case} END AS rule,\n"
        f"    CASE {points_case} END AS points\n"
        f"  FROM {source} k\n"
        f") x WHERE rule IS NOT NULL AND {kept}\n"
    )
