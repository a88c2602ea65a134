"""A run's snapshot rows, assembled from its rooms (SPEC S3, S6).

:func:`compute_snapshots` puts one run together and writes nothing: the features and the
compiled points (:mod:`~credo.scoring.query`), each person's bins (:mod:`~credo.scoring.points`),
the policy (:mod:`~credo.scoring.policy_rules`), the trend against the previous monthly run,
and the reasons and next bins to reach (:mod:`~credo.scoring.reasons`). The same inputs give the
same rows, which is what :func:`credo.scoring.replay.replay_run` relies on.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from credo.features import PointInTime
from credo.features.catalogue import actionable
from credo.models.table import ScorecardModel
from credo.policy.rules import active_rules
from credo.policy.schema import LoadedPolicy
from credo.scoring.columns import as_floats
from credo.scoring.points import bin_points, dimension_columns, dimension_points
from credo.scoring.policy_rules import (
    Applied,
    apply_policy,
    bands,
    check_scale,
    listings_query,
    scoring_policy,
)
from credo.scoring.query import scored_features
from credo.scoring.reasons import improvements, reasons
from credo.store.db import Store

__all__ = ["assemble_snapshots", "compute_snapshots"]


_PREVIOUS = """
WITH p AS (SELECT as_of, seq, policy_name FROM score_runs WHERE run_id = $run)
SELECT s.person_id, arg_max(s.score, r.seq) AS score
FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id, p
WHERE r.run_id = $run OR (r.kind = 'correction' AND r.as_of = p.as_of
  AND r.policy_name = p.policy_name AND r.seq > p.seq AND r.seq < $before)
GROUP BY s.person_id
"""


def _prior_scores(store: Store, previous: str | None, run_id: str) -> pa.Table | None:
    """Each person's score in the ``previous`` run, or the correction re-score made at its date
    since (before run ``run_id``): the trend then shows what happened after the correction,
    which its own alert already reported (docs/decisions/0531)."""
    if previous is None:
        return None
    seq = store.scalar("SELECT seq FROM score_runs WHERE run_id = ?", [run_id]) if run_id else None
    params = {"run": previous, "before": int(seq or 2**62)}
    return store.con.sql(_PREVIOUS, params=params).to_arrow_table()


def _previous_scores(prior: pa.Table | None, persons: pa.Array) -> NDArray[np.float64]:
    """Each person's score in the ``prior`` run's rows (NaN: none, or not scored then)."""
    if prior is None:
        return np.full(len(persons), np.nan)
    row = pc.index_in(persons, value_set=prior.column("person_id").combine_chunks())
    return as_floats(prior.column("score").take(row))


def _explained(
    model: ScorecardModel, scored: pa.Table, applied: Applied, max_reasons: int
) -> dict[str, pa.Array]:
    """Reason codes and points lost, then the next bins to reach and what they gain."""
    names, unit = model.features, model.unit
    points = bin_points(model, scored)
    court_points = np.where(
        applied.model_score - applied.score > 0.0, applied.model_score - applied.score, 0.0
    )
    reason_codes, reason_points = reasons(
        names, applied.listed, applied.thin, court_points, points.lost, max_reasons, unit
    )
    # Only actions a person can take are suggested (docs/decisions/0534).
    gain = points.gain
    if gain is not None:
        gain = np.where(np.array([actionable(n) for n in names]), gain, 0)
    improve_codes, improve_points = improvements(names, gain, scored.num_rows, unit)
    return {
        "reason_codes": reason_codes,
        "reason_points": reason_points,
        "improve_codes": improve_codes,
        "improve_points": improve_points,
    }


def compute_snapshots(
    store: Store,
    pit: PointInTime,
    model: ScorecardModel,
    loaded: LoadedPolicy,
    *,
    previous: str | None,
    person: str | None = None,
    run_id: str = "",
) -> pa.Table:
    """The snapshot rows of one run (not written), in ``score_snapshots``' column order."""
    check_scale(model, loaded)
    scored = scored_features(store, pit, model, previous=previous, person=person)
    grace = active_rules(store.settings).court_list.grace_months
    listed = store.con.sql(listings_query(pit, grace_months=grace)).to_arrow_table()
    prior = _prior_scores(store, previous, run_id)
    return assemble_snapshots(pit, model, loaded, scored, listed=listed, prior=prior, run_id=run_id)


def assemble_snapshots(
    pit: PointInTime,
    model: ScorecardModel,
    loaded: LoadedPolicy,
    scored: pa.Table,
    *,
    listed: pa.Table,
    prior: pa.Table | None,
    run_id: str = "",
) -> pa.Table:
    """The snapshot rows from what an engine computed: ``scored`` (the features and compiled
    points, in ``person_id`` order), ``listed`` (:func:`listings_query`'s rows) and ``prior``
    (the previous run's ``person_id, score``, or None). DuckDB and Spark runs share it."""
    policy = scoring_policy(loaded)
    n = scored.num_rows
    persons = scored.column("person_id").combine_chunks().cast(pa.string())
    dims = dimension_points(scored)
    applied = apply_policy(listed, scored, persons, dims.get("connections"), policy, model.unit)
    previous_score = _previous_scores(prior, persons)
    no_previous = np.isnan(previous_score)
    columns: dict[str, pa.Array] = {
        "run_id": pa.repeat(pa.scalar(run_id, pa.string()), n),
        "person_id": persons,
        "as_of": pa.repeat(pa.scalar(pit.as_of, pa.date32()), n),
        "score": pa.array(applied.score, pa.float64()),
        "band": bands(policy, applied.score),
        "model_score": pa.array(applied.model_score, pa.float64()),
        "previous_score": pa.array(previous_score, pa.float64(), mask=no_previous),
        "trend": pa.array(applied.score - previous_score, pa.float64(), mask=no_previous),
        "not_enough_history": pa.array(applied.thin, pa.bool_()),
        "capped": pa.array(applied.capped, pa.bool_()),
        "court_listings": applied.court_listings,
        **dimension_columns(model, dims, n),
        **_explained(model, scored, applied, policy.max_reasons),
        "model_id": pa.repeat(pa.scalar(model.model_id, pa.string()), n),
        "policy_version": pa.repeat(pa.scalar(loaded.version, pa.string()), n),
        "known_at": pa.repeat(pa.scalar(pit.known_at, pa.timestamp("us")), n),
    }
    return pa.table(columns)
