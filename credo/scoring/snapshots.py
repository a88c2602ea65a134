"""The monthly run and off-cycle re-scores: one snapshot row per enrolled person (SPEC S3, S6).

A run computes the catalogue's features point in time, scores them with the compiled SQL of the
points table, then applies the scoring policy: "not enough history", the court-list cap, bands,
trend against the previous monthly run, up to four reasons ranked by points lost, and the next
bins to reach. Each run records model id, policy name/version/digest and the data watermark
(``known_at``), and which previous run its trend and contact scores read; ``replay_run``
recomputes a recorded run from exactly those inputs, row for row.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from credo.errors import ConfigError, ModelError, NotFoundError
from credo.features import DIMENSIONS, PointInTime, enrolled_sql, feature_steps, listings_sql
from credo.models.sql import scoring_sql
from credo.models.table import ScorecardModel
from credo.policy.regime import ledger_sql
from credo.policy.schema import LoadedPolicy, PointsRegime, ScoringPolicy, load_policy
from credo.scoring.columns import as_floats, columns_of
from credo.scoring.runner import stepwise
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow

__all__ = [
    "ScoreRun",
    "compute_snapshots",
    "is_restricted",
    "latest_known_at",
    "previous_run",
    "replay_run",
    "rescore_person",
    "score",
]

NOT_ENOUGH_HISTORY = "not_enough_history"
COURT_LIST = "court_list"
_IMPROVEMENTS = 3


@dataclass(frozen=True)
class ScoreRun:
    run_id: str
    kind: str
    as_of: dt.date
    known_at: dt.datetime
    model_id: str | None
    policy_name: str
    policy_version: str
    persons: int
    previous_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["known_at"] = self.known_at.isoformat()
        return data


def latest_known_at(store: Store) -> dt.datetime:
    """The default watermark: the newest ``recorded_at`` (data, not the wall clock)."""
    value = store.scalar("SELECT max(recorded_at) FROM events")
    return value if isinstance(value, dt.datetime) else dt.datetime(1970, 1, 1)


def previous_run(
    store: Store,
    as_of: dt.date,
    policy_name: str,
    *,
    before_seq: int | None = None,
    known_at: dt.datetime | None = None,
) -> str | None:
    """The latest monthly run of this policy for an earlier month (trend, contacts' scores).

    ``known_at`` keeps to runs made by then: training as known at a time must not see scores
    computed later (a re-run of the demo would otherwise train on its first run's scores)."""
    rows = store.con.execute(
        "SELECT run_id FROM score_runs WHERE kind = 'monthly' AND as_of < ? AND policy_name = ?"
        " AND seq < ? AND created_at <= ? ORDER BY as_of DESC, seq DESC LIMIT 1",
        [
            as_of,
            policy_name,
            before_seq if before_seq is not None else 2**62,
            known_at or dt.datetime.max,
        ],
    ).fetchall()
    return str(rows[0][0]) if rows else None


def _policy(policy: LoadedPolicy | str | None) -> LoadedPolicy:
    return policy if isinstance(policy, LoadedPolicy) else load_policy(policy or "zhima")


def _scoring(loaded: LoadedPolicy) -> ScoringPolicy:
    if not isinstance(loaded.policy, ScoringPolicy):
        raise ConfigError(f"policy {loaded.path!r} is a points regime, not a scoring policy")
    return loaded.policy


def _gain_per_bin(model: ScorecardModel, feature: str) -> np.ndarray:
    """Points gained by moving from each bin to the next better reachable one (0 at the best);
    "missing" and "other" are never targets, as in :func:`credo.models.explain`."""
    units = model.units_of(feature)
    targets = [
        int(units[j])
        for j, row in enumerate(model.rows_of(feature))
        if row.kind in ("interval", "categories")
    ]
    return np.array(
        [min([t - int(w) for t in targets if t > w], default=0) for w in units], dtype=np.int64
    )


def _best_reachable_units(model: ScorecardModel, feature: str) -> int:
    """Points of the best bin a person can move into ("missing" and "other" excluded, as in
    :func:`credo.models.explain`): a reason never says "fewer than the best (not known)"."""
    units = model.units_of(feature)
    reachable = [
        int(units[j])
        for j, row in enumerate(model.rows_of(feature))
        if row.kind in ("interval", "categories")
    ]
    return max(reachable) if reachable else int(units.max())


def _ragged(present: NDArray[np.bool_], values: pa.Array) -> pa.ListArray:
    """Row ``i``'s list holds the ``values`` of its ``present`` slots: ``values`` lists the
    present cells of the rows x slots grid row by row, as ``grid[present]`` does."""
    counts = present.sum(axis=1, dtype=np.int64)
    offsets = np.concatenate([np.zeros(1, np.int64), np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _ranked(
    points: NDArray[np.int64], limit: NDArray[np.int64], width: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
    """Per row, the columns of the ``width`` largest ``points`` (largest first, ties in column
    order), which of them count (positive, and within the row's ``limit``), and their points.
    Counted ones are a prefix of each row: the first non-positive one ends the list."""
    order = np.argsort(-points, axis=1, kind="stable")[:, :width]
    top = np.take_along_axis(points, order, axis=1)
    present = (top > 0) & (np.arange(width)[None, :] < limit[:, None])
    return order.astype(np.int64), present, top


def _reasons(
    names: list[str],
    listed: NDArray[np.bool_],
    thin: NDArray[np.bool_],
    court_points: NDArray[np.float64],
    lost: NDArray[np.int64] | None,
    max_reasons: int,
    unit: int,
) -> tuple[pa.ListArray, pa.ListArray]:
    """Reason codes and points lost: the court listing first, then "not enough history" for a
    thin file, else the features that lose most points; at most ``max_reasons`` in all."""
    n = len(listed)
    width = min(max_reasons, len(names)) if lost is not None else 0
    columns = np.zeros((n, width), np.int64)
    present = np.zeros((n, width), np.bool_)
    points = np.zeros((n, width), np.float64)
    if lost is not None and width:
        limit = np.where(thin, 0, max_reasons - listed.astype(np.int64))
        columns, present, top = _ranked(lost, limit, width)
        points = top.astype(np.float64) / unit
    # Slot 0 is the court listing, slot 1 "not enough history", then the features.
    codes = np.column_stack([np.full(n, len(names)), np.full(n, len(names) + 1), columns])
    present = np.column_stack([listed, thin, present])
    points = np.column_stack([court_points, np.zeros(n), points])
    vocabulary = pa.array([*names, COURT_LIST, NOT_ENOUGH_HISTORY], pa.string())
    return (
        _ragged(present, vocabulary.take(pa.array(codes[present]))),
        _ragged(present, pa.array(points[present], pa.float64())),
    )


def _improvements(
    names: list[str], gain: NDArray[np.int64] | None, n: int, unit: int
) -> tuple[pa.ListArray, pa.ListArray]:
    """The next bins to reach: the features whose next bin gains most points, at most three."""
    width = min(_IMPROVEMENTS, len(names)) if gain is not None else 0
    columns = np.zeros((n, width), np.int64)
    present = np.zeros((n, width), np.bool_)
    points = np.zeros((n, width), np.float64)
    if gain is not None and width:
        columns, present, top = _ranked(gain, np.full(n, width, np.int64), width)
        points = top.astype(np.float64) / unit
    vocabulary = pa.array(names, pa.string())
    return (
        _ragged(present, vocabulary.take(pa.array(columns[present]))),
        _ragged(present, pa.array(points[present], pa.float64())),
    )


def _court_listings(
    store: Store, pit: PointInTime, persons: pa.Array
) -> tuple[NDArray[np.bool_], pa.ListArray]:
    """Per person, whether a court listing is in force and the listings ("court | case")."""
    listings: dict[str, list[str]] = {}
    for who, court, case in store.con.execute(
        f"SELECT person_id, court, case_number FROM ({listings_sql(pit)}) l"
        " ORDER BY person_id, listed_on, court, case_number"
    ).fetchall():
        listings.setdefault(who, []).append(f"{court} | {case}")
    listed_persons = pa.array(list(listings), pa.string())
    row = pc.index_in(persons, value_set=listed_persons)
    # The listed persons' lists, then one empty list that every other person points at.
    lists = pa.array([*listings.values(), []], pa.list_(pa.string()))
    return np.asarray(row.is_valid()), lists.take(pc.fill_null(row, len(listings)))


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
    """The snapshot rows of one run (not written): the same inputs give the same rows."""
    policy = _scoring(loaded)
    if (model.table.scaling.min_score, model.table.scaling.max_score) != (
        policy.min_score,
        policy.max_score,
    ):
        raise ModelError(
            f"model {model.model_id} scores {model.table.scaling.min_score:g}-"
            f"{model.table.scaling.max_score:g}, policy {loaded.name} {policy.min_score}-"
            f"{policy.max_score}"
        )
    steps = feature_steps(pit, person=person, previous_run=previous)
    keep = ["person_id", "history_events", "history_months", *model.features]
    # A population runs step by step, to hold one event type's pass at a time; one person's
    # steps are small, and a re-score answers at once as one query.
    with stepwise(store.con, steps) if person is None else nullcontext(steps.sql()) as features:
        sql = scoring_sql(model, f"(\n{features}) f", keep=keep, feature_points=False)
        rows = store.con.sql(f"SELECT * FROM ({sql}) s ORDER BY person_id").to_arrow_table()
    n = rows.num_rows
    persons = rows.column("person_id").combine_chunks().cast(pa.string())
    unit = model.unit

    # -- bins, reasons and improvements from the published table ---------------------------
    names = model.features
    index = model.bin_indexes(columns_of(rows, model.features))
    units = np.column_stack([model.units_of(f)[index[f]] for f in names]) if names else None
    best = np.array([_best_reachable_units(model, f) for f in names])
    lows = np.array([model.units_of(f).min() for f in names])
    # A dimension's maximum is its features' highest bins, "not known" included: a share over
    # 100% would be nonsense, and a missing bin can carry more points than any reachable one.
    highs = np.array([model.units_of(f).max() for f in names])
    gains = [_gain_per_bin(model, f)[index[f]] for f in names]
    gain = np.column_stack(gains) if names else None

    # -- the score: compiled SQL, then the policy ------------------------------------------
    model_score = as_floats(rows.column("score"))
    dims_of = {s.name: s.dimension for s in model.table.features}
    dim_points: dict[str, NDArray[np.float64] | None] = {}
    for dim in DIMENSIONS:
        col = f"dimension__{dim}"
        dim_points[dim] = as_floats(rows.column(col)) if col in rows.column_names else None
    conn = dim_points.get("connections")
    if conn is not None and policy.connections_weight < 1.0:
        raw = as_floats(rows.column("raw_points"))
        raw = raw - np.round((1.0 - policy.connections_weight) * conn * unit) / unit
        model_score = np.clip(raw, policy.min_score, policy.max_score)
    history_events = as_floats(rows.column("history_events"))
    history_months = as_floats(rows.column("history_months"))
    history_months = np.where(np.isnan(history_months), -1.0, history_months)
    rule = policy.not_enough_history
    thin = (history_events < rule.min_events) | (history_months < rule.min_months)
    weight = rule.credibility(history_events, history_months)
    final = np.where(
        thin, float(rule.score), np.round(rule.score + weight * (model_score - rule.score))
    )

    listed, court_listings = _court_listings(store, pit, persons)
    capped = listed & (final > policy.court_list.cap)
    final = np.where(listed, np.minimum(final, policy.court_list.cap), final)

    previous_score = np.full(n, np.nan)
    if previous is not None:
        prior = store.con.sql(
            "SELECT person_id, score FROM score_snapshots WHERE run_id = $run",
            params={"run": previous},
        ).to_arrow_table()
        row = pc.index_in(persons, value_set=prior.column("person_id").combine_chunks())
        previous_score = as_floats(prior.column("score").take(row))

    lost = best[None, :] - units if units is not None else None
    court_points = np.where(model_score - final > 0.0, model_score - final, 0.0)
    reason_codes, reason_points = _reasons(
        names, listed, thin, court_points, lost, policy.max_reasons, unit
    )
    improve_codes, improve_points = _improvements(names, gain, n, unit)

    band_ends = np.array([b.max + 1 for b in policy.bands], np.float64)
    band_names = pa.array([b.name for b in policy.bands], pa.string())
    band = np.minimum(np.searchsorted(band_ends, final, side="right"), len(band_ends) - 1)
    columns: dict[str, Any] = {
        "run_id": pa.repeat(pa.scalar(run_id, pa.string()), n),
        "person_id": persons,
        "as_of": pa.repeat(pa.scalar(pit.as_of, pa.date32()), n),
        "score": pa.array(final, pa.float64()),
        "band": band_names.take(pa.array(band)),
        "model_score": pa.array(model_score, pa.float64()),
        "previous_score": pa.array(previous_score, pa.float64(), mask=np.isnan(previous_score)),
        "trend": pa.array(final - previous_score, pa.float64(), mask=np.isnan(previous_score)),
        "not_enough_history": pa.array(thin, pa.bool_()),
        "capped": pa.array(capped, pa.bool_()),
        "court_listings": court_listings,
    }
    for dim in DIMENSIONS:
        points = dim_points[dim]
        members = [k for k, f in enumerate(names) if dims_of[f] == dim]
        if points is None or not members:
            columns[f"{dim}_points"] = pa.nulls(n, pa.float64())
            columns[f"{dim}_share"] = pa.nulls(n, pa.float64())
            continue
        low = lows[members].sum() / unit
        span = (highs[members].sum() - lows[members].sum()) / unit
        share = np.round((points - low) / span, 4) if span > 0 else np.ones(n)
        columns[f"{dim}_points"] = pa.array(points, pa.float64())
        columns[f"{dim}_share"] = pa.array(share, pa.float64())
    columns |= {
        "reason_codes": reason_codes,
        "reason_points": reason_points,
        "improve_codes": improve_codes,
        "improve_points": improve_points,
        "model_id": pa.repeat(pa.scalar(model.model_id, pa.string()), n),
        "policy_version": pa.repeat(pa.scalar(loaded.version, pa.string()), n),
        "known_at": pa.repeat(pa.scalar(pit.known_at, pa.timestamp("us")), n),
    }
    return pa.table(columns)


def _next_run(con: Any, kind: str, as_of: dt.date) -> tuple[int, str]:
    seq = int(con.execute("SELECT coalesce(max(seq), 0) + 1 FROM score_runs").fetchall()[0][0])
    return seq, f"{kind}-{as_of:%Y%m%d}-{seq:06d}"


def _write_run(
    store: Store,
    kind: str,
    pit: PointInTime,
    loaded: LoadedPolicy,
    model_id: str | None,
    previous: str | None,
    person: str | None,
    build: Any,
) -> ScoreRun:
    """One transaction: the run row, its rows (``build(con, run_id)``), the audit entry."""
    entry = AuditEntry(
        store.settings.actor,
        f"score_{kind}",
        target=f"person:{person}" if person else f"as_of:{pit.as_of}",
        purpose="off-cycle re-score" if person else "monthly scoring",
        details={
            "as_of": pit.as_of,
            "known_at": pit.known_at,
            "model_id": model_id,
            "policy": f"{loaded.name} {loaded.version} {loaded.digest}",
        },
    )
    with store.write(entry) as con:
        seq, run_id = _next_run(con, kind, pit.as_of)
        count = build(con, run_id)
        con.execute(
            "INSERT INTO score_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                seq,
                kind,
                pit.as_of,
                pit.known_at,
                model_id,
                loaded.name,
                loaded.version,
                loaded.digest,
                previous,
                person,
                count,
                utcnow(),
            ],
        )
    return ScoreRun(
        run_id,
        kind,
        pit.as_of,
        pit.known_at,
        model_id,
        loaded.name,
        loaded.version,
        count,
        previous,
    )


def _insert_snapshots(table: pa.Table) -> Any:
    def build(con: Any, run_id: str) -> int:
        rows = table.set_column(
            0, "run_id", pa.repeat(pa.scalar(run_id, pa.string()), table.num_rows)
        )
        con.register("credo_new_snapshots", rows)
        try:
            con.execute("INSERT INTO score_snapshots SELECT * FROM credo_new_snapshots")
        finally:
            con.unregister("credo_new_snapshots")
        return int(rows.num_rows)

    return build


def score(
    store: Store,
    as_of: dt.date,
    model: Any = None,
    policy: LoadedPolicy | str | None = None,
    *,
    known_at: dt.datetime | None = None,
) -> ScoreRun:
    """The monthly run as of ``as_of`` for every enrolled person (or a points regime's ledger
    when ``policy`` is one). ``known_at`` defaults to the newest recorded event."""
    from credo.scoring.registry import load_model

    loaded = _policy(policy)
    known = known_at or latest_known_at(store)
    if isinstance(loaded.policy, PointsRegime):
        return run_regime(store, as_of, loaded, known_at=known)
    rules = _scoring(loaded)
    scorecard = load_model(store, model)
    pit = PointInTime(as_of, known, rules.retention_years)
    previous = previous_run(store, as_of, loaded.name)
    table = compute_snapshots(store, pit, scorecard, loaded, previous=previous)
    return _write_run(
        store,
        "monthly",
        pit,
        loaded,
        scorecard.model_id,
        previous,
        None,
        _insert_snapshots(table),
    )


def _latest_snapshot(store: Store, person_id: str, as_of: dt.date | None = None) -> Any:
    rows = store.con.execute(
        "SELECT r.run_id, r.kind, r.as_of, r.known_at, r.model_id, r.policy_name,"
        " r.policy_version, r.policy_digest, r.previous_run_id, r.seq"
        " FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id"
        " WHERE s.person_id = ? AND r.as_of <= coalesce(?, r.as_of)"
        " ORDER BY r.as_of DESC, r.seq DESC LIMIT 1",
        [person_id, as_of],
    ).fetchall()
    return rows[0] if rows else None


def rescore_person(
    store: Store,
    person_id: str,
    as_of: dt.date,
    *,
    known_at: dt.datetime | None = None,
    model: Any = None,
    policy: LoadedPolicy | str | None = None,
) -> ScoreRun:
    """Off-cycle re-score of one person (after a correction or a satisfied listing): the same
    model and policy as their latest snapshot unless given, everything known now."""
    from credo.scoring.registry import load_model

    last = _latest_snapshot(store, person_id)
    loaded = _policy(policy if policy is not None else (last[5] if last else None))
    rules = _scoring(loaded)
    scorecard = load_model(store, model if model is not None else (last[4] if last else None))
    known = known_at or latest_known_at(store)
    pit = PointInTime(as_of, known, rules.retention_years)
    previous = previous_run(store, as_of, loaded.name)
    table = compute_snapshots(store, pit, scorecard, loaded, previous=previous, person=person_id)
    if table.num_rows == 0:
        raise NotFoundError(
            f"person {person_id!r} is not an enrolled, active person on {as_of}",
            hint="only enrolled persons are scored",
        )
    if last is not None:  # the trend of an off-cycle score is against the person's last score
        prior = store.scalar(
            "SELECT score FROM score_snapshots WHERE run_id = ? AND person_id = ?",
            [last[0], person_id],
        )
        table = table.set_column(
            table.column_names.index("previous_score"),
            "previous_score",
            pa.array([float(prior)], pa.float64()),
        )
        trend = float(table.column("score")[0].as_py()) - float(prior)
        table = table.set_column(
            table.column_names.index("trend"), "trend", pa.array([trend], pa.float64())
        )
    return _write_run(
        store,
        "rescore",
        pit,
        loaded,
        scorecard.model_id,
        previous,
        person_id,
        _insert_snapshots(table),
    )


def replay_run(store: Store, run_id: str) -> pa.Table:
    """Recompute a recorded monthly run from its recorded inputs (for audits and tests)."""
    from credo.scoring.registry import load_model

    rows = store.con.execute(
        "SELECT kind, as_of, known_at, model_id, policy_name, policy_digest, previous_run_id,"
        " person_id FROM score_runs WHERE run_id = ?",
        [run_id],
    ).fetchall()
    if not rows:
        raise NotFoundError(f"no score run {run_id!r}")
    kind, as_of, known, model_id, policy_name, digest, previous, person = rows[0]
    if kind != "monthly":
        raise ConfigError(f"run {run_id} is a {kind} run; only monthly runs replay")
    loaded = load_policy(policy_name)
    if loaded.digest != digest:
        raise ConfigError(
            f"policy {policy_name!r} changed since run {run_id} ({digest} -> {loaded.digest})",
            hint="restore the policy file of that version to replay",
        )
    pit = PointInTime(as_of, known, _scoring(loaded).retention_years)
    return compute_snapshots(
        store,
        pit,
        load_model(store, model_id),
        loaded,
        previous=previous,
        person=person,
        run_id=run_id,
    )


def is_restricted(
    store: Store, person_id: str, product: str | None = None, *, policy: str | None = None
) -> bool:
    """Whether the person's latest score shows a court listing in force and ``product`` (if
    given) is one the policy restricts. Off-cycle re-scores count at once."""
    last = _latest_snapshot(store, person_id)
    if last is None:
        return False
    listings = store.scalar(
        "SELECT len(court_listings) FROM score_snapshots WHERE run_id = ? AND person_id = ?",
        [last[0], person_id],
    )
    if not listings:
        return False
    if product is None:
        return True
    rules = _scoring(_policy(policy or last[5]))
    return product in rules.court_list.restricted_products


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

    def build(con: Any, run_id: str) -> int:
        con.execute(
            "INSERT INTO points_ledger SELECT ?, l.person_id, ?, l.event_id, l.source,"
            f" l.source_record_id, l.occurred_at, l.rule, l.points FROM ({ledger}) l"
            f" JOIN ({enrolled}) e ON e.person_id = l.person_id",
            [run_id, name],
        )
        grades = " ".join(
            f"WHEN b >= {g.min} THEN '{g.grade}'" for g in regime.grades if g.min is not None
        )
        con.execute(
            "INSERT INTO points_balances SELECT ?, person_id, ?, ?, b,"
            f" CASE {grades} ELSE '{regime.grades[-1].grade}' END FROM ("
            f"  SELECT e.person_id, {regime.start} + coalesce(sum(l.points), 0) AS b"
            f"  FROM ({enrolled}) e LEFT JOIN points_ledger l ON l.person_id = e.person_id"
            "   AND l.run_id = ? GROUP BY e.person_id) x",
            [run_id, name, as_of, run_id],
        )
        return int(
            con.execute(
                "SELECT count(*) FROM points_balances WHERE run_id = ?", [run_id]
            ).fetchall()[0][0]
        )

    return _write_run(store, "regime", pit, loaded, None, None, None, build)
