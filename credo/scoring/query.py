"""The run's one query: point-in-time features per person, scored by the points table's SQL.

The catalogue's features as of the run's date and watermark (:func:`credo.features.feature_steps`,
with the previous run's scores for the contacts' features), then the compiled points table
(:func:`credo.models.sql.scoring_sql`): per person the score, raw points, dimension points, the
history counts the policy's thin-file rule reads, and each feature's value.
"""

from __future__ import annotations

from contextlib import nullcontext

import pyarrow as pa

from credo.features import PASS_TYPES, PointInTime, feature_steps
from credo.models.sql import scoring_sql
from credo.models.table import ScorecardModel
from credo.policy.rules import active_rules
from credo.scoring.runner import pass_splits, stepwise
from credo.store.db import Store

__all__ = ["scored_features", "scoring_query"]


def scoring_query(
    model: ScorecardModel, features: str, *, dialect_name: str = "duckdb", ordered: bool = True
) -> str:
    """The points table's SQL over ``features`` (a feature query's text), in ``person_id``
    order: the one text both engines run. Unordered (``ordered=False``) for Spark's run, which
    sorts each partition of persons itself: a global sort would only be thrown away."""
    keep = ["person_id", "history_events", "history_months", *model.features]
    source = f"(\n{features}) f"
    sql = scoring_sql(model, source, keep=keep, feature_points=False, dialect=dialect_name)
    return f"SELECT * FROM ({sql}) s" + (" ORDER BY person_id" if ordered else "")


def scored_features(
    store: Store,
    pit: PointInTime,
    model: ScorecardModel,
    *,
    previous: str | None,
    person: str | None = None,
) -> pa.Table:
    """One row per enrolled person (or just ``person``), in ``person_id`` order."""
    rules = active_rules(store.settings)
    # A population's big passes are read in parts that fit in memory (decision 0816).
    splits = pass_splits(store.con, PASS_TYPES) if person is None else {}
    steps = feature_steps(
        pit, person=person, previous_run=previous, grace_months=rules.court_list.grace_months,
        withhold_assets=rules.consents.assets_written, splits=splits,  # R-CRR-4
    )  # fmt: skip
    # A population runs step by step, to hold one event type's pass at a time; one person's
    # steps are small, and a re-score answers at once as one query.
    with stepwise(store.con, steps) if person is None else nullcontext(steps.sql()) as features:
        return store.con.sql(scoring_query(model, features)).to_arrow_table()
