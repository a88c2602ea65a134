"""The monthly run and off-cycle re-scores: one snapshot row per enrolled person (SPEC S3, S6).

A run computes the catalogue's features point in time, scores them with the compiled SQL of the
points table, then applies the scoring policy: "not enough history", the court-list cap, bands,
trend against the previous monthly run, up to four reasons ranked by points lost, and the next
bins to reach (:func:`~credo.scoring.snapshots.compute_snapshots`). A points regime's policy
runs its ledger instead (:mod:`credo.scoring.regimes`).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from credo.errors import NotFoundError
from credo.features import PointInTime
from credo.models.table import ScorecardModel
from credo.policy.products import ProductsPolicy
from credo.policy.schema import LoadedPolicy, PointsRegime
from credo.scoring.latest import LatestSnapshot, latest_scheduled, latest_snapshot
from credo.scoring.policy_rules import resolve_policy, scoring_policy
from credo.scoring.regimes import run_regime
from credo.scoring.registry import ModelRef, load_model
from credo.scoring.retention import retention_run
from credo.scoring.runs import ScoreRun, insert_snapshots, latest_known_at, previous_run, write_run
from credo.scoring.snapshots import compute_snapshots
from credo.store.audit import AuditEntry
from credo.store.db import Store

__all__ = ["rescore_correction", "rescore_person", "score"]


def _write(
    store: Store,
    pit: PointInTime,
    loaded: LoadedPolicy,
    scorecard: ScorecardModel,
    previous: str | None,
    table: pa.Table,
    *,
    person: str | None = None,
    kind: str | None = None,
    also: list[AuditEntry] | None = None,
) -> ScoreRun:
    """The run and its snapshots: a monthly run, or one person's off-cycle re-score."""
    kind = kind or ("monthly" if person is None else "rescore")
    return write_run(
        store,
        kind,
        pit,
        loaded,
        model_id=scorecard.model_id,
        previous=previous,
        person=person,
        build=insert_snapshots(table),
        also=also or (),
    )


def score(
    store: Store,
    as_of: dt.date,
    model: ModelRef = None,
    policy: LoadedPolicy | str | None = None,
    *,
    known_at: dt.datetime | None = None,
    override_why: str | None = None,
    products: ProductsPolicy | None = None,
) -> ScoreRun:
    """The monthly run as of ``as_of`` for every enrolled person (or a points regime's ledger
    when ``policy`` is one). ``known_at`` defaults to the newest recorded event.

    First the retention engine deletes every adverse item past its purge date under the
    active rules profile (audited as ``retention.run``); persons whose processing is restricted
    are held: no snapshot until they lift it (:func:`credo.features.restricted_sql`).

    The fairness gate stands before the write: with protected attributes loaded, a card whose
    adverse impact ratio is under 0.8 at a product cut is refused unless ``override_why``
    says why, recorded with the run (:func:`credo.fairness.bureau.gate_run`). ``products``:
    whose cuts it audits (default the shipped ``products.yaml``)."""
    loaded = resolve_policy(policy)
    # Aged items are deleted first, audited, so no run scores what the law says is gone
    # (RULES R-FCRA-10, R-CRR-1; decisions 0644, 0647).
    retention_run(store, as_of, actor="monthly run")
    known = known_at or latest_known_at(store)
    if isinstance(loaded.policy, PointsRegime):
        return run_regime(store, as_of, loaded, known_at=known)
    rules = scoring_policy(loaded)
    scorecard = load_model(store, model)
    pit = PointInTime(as_of, known, rules.retention_years)
    previous = previous_run(store, as_of, loaded.name)
    table = compute_snapshots(store, pit, scorecard, loaded, previous=previous)
    from credo.fairness.bureau import gate_snapshots
    from credo.scoring.train import training_table

    also = gate_snapshots(
        store, as_of, scorecard.model_id, loaded, table, override_why, products, rules,
        training_table,
    )  # fmt: skip
    return _write(store, pit, loaded, scorecard, previous, table, also=also)


def _trend_from(table: pa.Table, last: LatestSnapshot) -> pa.Table:
    """The trend of an off-cycle score is against the person's last score, whatever its run."""
    trend = float(table.column("score")[0].as_py()) - last.score
    table = table.set_column(
        table.column_names.index("previous_score"),
        "previous_score",
        pa.array([last.score], pa.float64()),
    )
    return table.set_column(
        table.column_names.index("trend"), "trend", pa.array([trend], pa.float64())
    )


def rescore_person(
    store: Store,
    person_id: str,
    as_of: dt.date,
    *,
    known_at: dt.datetime | None = None,
    model: ModelRef = None,
    policy: LoadedPolicy | str | None = None,
) -> ScoreRun:
    """Off-cycle re-score of one person (after a correction or a satisfied listing): the same
    model and policy as their latest snapshot unless given, everything known now."""
    last = latest_snapshot(store, person_id)
    loaded = resolve_policy(policy if policy is not None else (last.policy_name if last else None))
    rules = scoring_policy(loaded)
    scorecard = load_model(store, model if model is not None else (last.model_id if last else None))
    known = known_at or latest_known_at(store)
    pit = PointInTime(as_of, known, rules.retention_years)
    previous = previous_run(store, as_of, loaded.name)
    table = compute_snapshots(store, pit, scorecard, loaded, previous=previous, person=person_id)
    if table.num_rows == 0:
        raise NotFoundError(
            f"person {person_id!r} is not an enrolled, active person on {as_of}",
            hint="only enrolled persons are scored",
        )
    if last is not None:
        table = _trend_from(table, last)
    return _write(store, pit, loaded, scorecard, previous, table, person=person_id)


def rescore_correction(
    store: Store, person_id: str, *, corrections_known_at: dt.datetime | None = None
) -> ScoreRun | None:
    """Re-score one person after a correction of their file (a dispute won, an amendment, a
    judgment satisfied) at the as-of date of their latest monthly snapshot
    (docs/decisions/0531): the model, policy, previous run and events (watermark) of their
    latest score of that date, and every correction recorded by ``corrections_known_at``
    (default: the newest recorded event), whenever it was made.

    Only the correction is new, so the trend (against that latest score) is the correction's
    effect alone, not a month of calendar drift. The run's kind is ``correction``; the next
    monthly run carries the correction and takes its trend from this score. ``None`` if the
    person was never scored by a monthly run or is no longer scored.
    """
    scheduled = latest_scheduled(store, person_id)
    if scheduled is None:
        return None
    last = latest_snapshot(store, person_id, scheduled.as_of)
    assert last is not None  # the scheduled snapshot at least
    loaded = resolve_policy(last.policy_name)
    rules = scoring_policy(loaded)
    scorecard = load_model(store, last.model_id)
    events_known = store.scalar(
        "SELECT known_at FROM score_snapshots WHERE run_id = ? AND person_id = ?",
        [last.run_id, person_id],
    )
    pit = PointInTime(
        scheduled.as_of,
        events_known,
        rules.retention_years,
        corrections_known_at=corrections_known_at or latest_known_at(store),
    )
    previous = scheduled.previous_run_id
    table = compute_snapshots(store, pit, scorecard, loaded, previous=previous, person=person_id)
    if table.num_rows == 0:
        return None
    table = _trend_from(table, last)
    return _write(
        store, pit, loaded, scorecard, previous, table, person=person_id, kind="correction"
    )
