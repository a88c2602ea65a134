"""Training on the bureau's own events: features at an observation date, the outcome after it.

The training table is built point in time: features see only events that occurred by the
observation date; the outcome (a default, or 90+ days past due, in the following 12 months by
default) sees only events after it. Both are read with one data watermark, recorded with the
model. The scale is then shifted so that the policy's share of scored persons (5%) falls below
its calibration score (550), as reported for Zhima (docs/decisions/0500).

Several observation months (vintages) can be stacked, so the development sample holds enough
bad outcomes, and a later month held out to measure the fit out of time: AUC, Gini, KS and
calibration, in time and out of time, are kept beside the model (docs/decisions/0536).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.errors import ModelError
from credo.features import (
    CATALOGUE,
    PASS_TYPES,
    PointInTime,
    feature_steps,
    months_before,
    outcome_sql,
)
from credo.features.catalogue import Feature
from credo.models.table import ScorecardModel, content_id, with_training
from credo.policy.bases import refuse_protected_features
from credo.policy.rules import active_rules
from credo.policy.schema import LoadedPolicy, ScoringPolicy
from credo.scoring.columns import columns_of
from credo.scoring.fit import fit_summary
from credo.scoring.policy_rules import listings_query, resolve_policy
from credo.scoring.registry import register_model
from credo.scoring.runner import pass_splits, stepwise
from credo.scoring.runs import latest_known_at, previous_run
from credo.store.db import Store

__all__ = [
    "TrainingResult",
    "TrainingTable",
    "calibrate",
    "calibrated",
    "train_model",
    "training_table",
]


@dataclass(frozen=True)
class TrainingResult:
    model: ScorecardModel
    path: Path | None
    as_of: dt.date
    known_at: dt.datetime
    rows: int
    bad_rows: int
    unavailable: list[str] = field(default_factory=list)
    #: observation dates stacked for development, and the fit in time and out of time
    vintages: list[dt.date] = field(default_factory=list)
    fit: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model.model_id,
            "model_version": self.model.table.model_version,
            "path": str(self.path) if self.path else None,
            "as_of": self.as_of.isoformat(),
            "known_at": self.known_at.isoformat(),
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "features": self.model.features,
            "unavailable_features": self.unavailable,
            "vintages": [v.isoformat() for v in self.vintages],
            "fit": self.fit,
        }


def _scoring_policy(policy: LoadedPolicy | str | None) -> LoadedPolicy:
    """The policy to train under; a points regime has no scale to train."""
    loaded = resolve_policy(policy)
    if not isinstance(loaded.policy, ScoringPolicy):
        raise ModelError(f"policy {loaded.name!r} is a points regime; training needs a scoring one")
    return loaded


@dataclass(frozen=True)
class TrainingTable:
    """Persons with enough history at the observation date: features, outcome, and whether
    they had loan activity in the outcome window (``performing``). Only performing persons
    are a development sample: a person without any loan cannot default on one, so counting
    them as good would teach the model that "no loan" is the safest bin of every credit
    feature, and the first loan a person opened would cost them most of a band. Everyone with
    enough history still calibrates the scale."""

    features: dict[str, NDArray[Any]]
    bad: NDArray[np.int64]
    persons: NDArray[Any]
    performing: NDArray[np.bool_]

    def performing_only(
        self, names: Sequence[str] | None = None, *, persons: bool = False
    ) -> TrainingTable:
        """The performing rows alone, in order: of the features ``names`` if given, their
        persons only if ``persons`` (else none). The development sample and the holdout need
        no more, and at a million persons the rest (a Python string per person and date, the
        rows without loans) is most of the table."""
        keep = self.performing
        wanted = self.features if names is None else names
        return TrainingTable(
            {n: self.features[n][keep] for n in wanted},
            self.bad[keep],
            self.persons[keep] if persons else np.empty(0, dtype=object),
            np.ones(int(keep.sum()), dtype=np.bool_),
        )

    @classmethod
    def stacked(cls, tables: list[TrainingTable]) -> TrainingTable:
        """One table of several observation dates (a person once per date)."""
        return cls(
            {n: np.concatenate([t.features[n] for t in tables]) for n in tables[0].features},
            np.concatenate([t.bad for t in tables]),
            np.concatenate([t.persons for t in tables]),
            np.concatenate([t.performing for t in tables]),
        )


def training_table(
    store: Store,
    as_of: dt.date,
    *,
    policy: ScoringPolicy,
    known_at: dt.datetime,
    outcome_months: int | None = None,
    features: Sequence[Feature] = CATALOGUE,
) -> TrainingTable:
    """The training rows at ``as_of``: features then, the outcome after (point in time). A
    feature reading a protected basis the rules profile forbids is refused first (R-ECOA-1)."""
    rules = active_rules(store.settings)
    refuse_protected_features(features, rules)
    pit = PointInTime(as_of, known_at, policy.retention_years)
    earlier = previous_run(store, as_of, policy.name, known_at=known_at)
    # R-CRR-4: a model learns from asset data only where the person consented to its use.
    steps = feature_steps(
        pit, previous_run=earlier, features=features,
        withhold_assets=rules.consents.assets_written,
        splits=pass_splits(store.con, PASS_TYPES),  # decision 0816
    )  # fmt: skip
    months = outcome_months or policy.outcome.months
    outcome = outcome_sql(pit, months, min_days_past_due=policy.outcome.min_days_past_due)
    rule = policy.not_enough_history
    with stepwise(store.con, steps) as feature_sql:
        sql = (
            f"WITH f AS ({feature_sql}), o AS ({outcome})\n"
            "SELECT f.*, coalesce(o.bad, 0) AS bad, o.person_id IS NOT NULL AS performing\n"
            "FROM f LEFT JOIN o ON o.person_id = f.person_id\n"
            f"WHERE f.history_events >= {rule.min_events}"
            f" AND f.history_months >= {rule.min_months}\n"
            "ORDER BY f.person_id"
        )
        rows = store.con.sql(sql).to_arrow_table()
    names = [f.name for f in features]
    # Arrow to NumPy column by column, without a Python object per value but the ids' own
    # (the same arrays ``to_pylist`` gave: no NULL in these three columns)
    return TrainingTable(
        columns_of(rows, names),
        rows.column("bad").to_numpy().astype(np.int64),
        rows.column("person_id").to_numpy(zero_copy_only=False).astype(object),
        rows.column("performing").to_numpy(zero_copy_only=False).astype(np.bool_),
    )


def calibrate(
    model: ScorecardModel,
    X: dict[str, NDArray[Any]],
    policy: ScoringPolicy,
    held_below: NDArray[np.bool_] | None = None,
) -> Any:
    """Shift base points (and with them the intercept) so the calibration quantile lands on the
    calibration score; slopes are untouched, so reasons and odds-doubling stay as fitted.

    ``held_below`` marks persons the policy keeps under the calibration score whatever their
    model score (a court listing in force, capped at 549): they count among the share below,
    so the published "about 5% below 550" is of the scores as given (docs/decisions/0537)."""
    return calibrated(model, model.raw_units(X) / model.unit, policy, held_below)


def calibrated(
    model: ScorecardModel,
    raw: NDArray[np.float64],
    policy: ScoringPolicy,
    held_below: NDArray[np.bool_] | None = None,
) -> ScorecardModel:
    """:func:`calibrate` given the persons' raw points (``raw_units / unit``), so they can be
    computed a date at a time rather than on every anchor row at once."""
    if held_below is not None and held_below.any():
        raw = np.where(held_below, min(float(raw.min()), float(policy.min_score)) - 1.0, raw)
    target = policy.calibration
    shift = round(target.score - float(np.quantile(raw, target.share_below)))
    table = model.table
    scaling = table.scaling.model_copy(update={"base_points": table.scaling.base_points + shift})
    intercept = table.intercept.model_copy(update={"points": table.intercept.points + shift})
    draft = table.model_copy(update={"scaling": scaling, "intercept": intercept})
    return ScorecardModel(
        draft.model_copy(update={"model_id": content_id(draft.model_dump(mode="json"))})
    )


def _usable(X: dict[str, NDArray[Any]]) -> tuple[dict[str, NDArray[Any]], list[str]]:
    """The features that can be binned, and the names of those that cannot: never known, or
    known for everyone with a single value."""
    usable: dict[str, NDArray[Any]] = {}
    unavailable: list[str] = []
    for name, column in X.items():
        values = column[~np.isnan(column)] if column.dtype.kind == "f" else column[column != None]  # noqa: E711
        if len(values) == 0 or (len(set(values.tolist())) == 1 and len(values) == len(column)):
            unavailable.append(name)
        else:
            usable[name] = column
    return usable, unavailable


def train_model(
    store: Store,
    as_of: dt.date,
    *,
    policy: LoadedPolicy | str | None = None,
    known_at: dt.datetime | None = None,
    outcome_months: int | None = None,
    model_version: str | None = None,
    save: bool = True,
    vintages: int = 1,
    holdout: dt.date | None = None,
    holdout_vintages: int = 1,
    anchor_dates: Sequence[dt.date] | None = None,
    balance_vintages: bool = False,
    features: Sequence[Feature] = CATALOGUE,
) -> TrainingResult:
    """Fit the catalogue's scorecard at ``as_of`` (stacking ``vintages`` monthly observation
    dates ending there), measure it out of time on ``holdout_vintages`` monthly observation
    dates ending at ``holdout`` if given; register and write it unless ``save=False``.

    The scale's anchor (``share_below`` under the calibration score) is set on the persons with
    enough history at ``anchor_dates`` (their features only: no outcome is needed, so these can
    be as late as the data), by default on the newest vintage (docs/decisions/0537).

    ``balance_vintages`` fits on a sample where every stacked vintage has the same bad rate
    (:func:`_balanced`), then puts the published odds back on the population's; the fit in time
    is measured on every performing row of the vintages."""
    loaded = _scoring_policy(policy)
    rules = loaded.policy
    assert isinstance(rules, ScoringPolicy)
    known = known_at or latest_known_at(store)
    dates = [months_before(as_of, k) for k in range(max(1, vintages) - 1, -1, -1)]

    def table_at(d: dt.date) -> TrainingTable:
        return training_table(
            store, d, policy=rules, known_at=known, outcome_months=outcome_months, features=features
        )

    # One date at a time, only its performing rows kept (the newest date whole when it
    # anchors the scale): every training row is a performing one, and the balanced sample
    # draws the same goods from them (``_balanced`` draws positions among the goods).
    tables: list[TrainingTable] = []
    newest: TrainingTable | None = None
    for d in dates:
        whole = table_at(d)
        tables.append(whole.performing_only())
        if not anchor_dates and d == dates[-1]:
            newest = whole
        del whole
    table = TrainingTable.stacked(tables) if len(tables) > 1 else tables[0]
    everyone = table.features
    y_all = table.bad
    keep = np.ones(len(y_all), dtype=np.bool_)
    if balance_vintages and len(tables) > 1:
        keep = _balanced(tables, as_of)
    del tables
    X = {name: column[keep] for name, column in everyone.items()}
    y = y_all[keep]
    if len(y) == 0 or y.sum() == 0 or y.sum() == len(y):
        raise ModelError(
            f"cannot train at {as_of}: {len(y)} persons with enough history and loan activity"
            f" after it, {int(y.sum())} bad",
            hint="choose an observation date with history before it and outcomes after it",
        )
    usable, unavailable = _usable(X)
    months = outcome_months or rules.outcome.months
    version = model_version or f"bureau-{as_of.isoformat()}"
    outcome = f"default or {rules.outcome.min_days_past_due}+ days past due within {months} months"
    model = with_training(_fitted(usable, y, rules, version), target=outcome, bad_value="1")
    del X
    # The scale's anchor, one date at a time: each row's raw points and whether a listing
    # holds it under the calibration score (row by row, so the same as on the stacked rows).
    anchored_on = list(anchor_dates) if anchor_dates else dates[-1:]
    raw_units: list[NDArray[np.int64]] = []
    held: list[NDArray[np.bool_]] = []
    for d in anchored_on:
        anchor = newest if newest is not None else table_at(d)
        raw_units.append(model.raw_units({n: anchor.features[n] for n in usable}))
        held.append(_listed(store, d, anchor.persons, known, rules))
        del anchor
    newest = None
    raw = np.concatenate(raw_units) / model.unit
    anchor_persons = len(raw)
    model = calibrated(model, raw, rules, np.concatenate(held))
    del raw, raw_units, held
    fitted_rows = len(y)
    if len(y) < len(y_all):  # goods were dropped: the published odds are the population's
        model = _prior_corrected(model, _odds(y) / _odds(y_all))
        usable = {n: everyone[n] for n in usable}
        y = y_all
    fit = _fit(
        store, model, usable, y, rules, known, outcome_months, holdout, holdout_vintages, features
    )
    if holdout is not None:
        fit |= _overlap(as_of, months, months_before(holdout, max(1, holdout_vintages) - 1))
    fit["anchored_on"] = [d.isoformat() for d in anchored_on]
    fit["anchor_persons"] = anchor_persons
    path = None
    if save:
        path = register_model(
            store,
            model,
            trained_as_of=as_of,
            known_at=known,
            policy_name=loaded.name,
            policy_version=loaded.version,
            outcome=outcome,
            fit=fit,
        )
    return TrainingResult(
        model, path, as_of, known, fitted_rows, int(y.sum()), unavailable, dates, fit
    )


def _balanced(tables: list[TrainingTable], as_of: dt.date) -> NDArray[np.bool_]:
    """Rows kept so that every stacked vintage has the bad rate of the worst one: every bad is
    kept, goods are dropped at random (seeded by ``as_of``). A development sample stacked over
    months whose bad rate drifts otherwise teaches the model the calendar: a feature that only
    grows with time (the file's age, a tenure) looks safer because later months had fewer bads
    (docs/decisions/0537)."""
    rng = np.random.default_rng(as_of.toordinal())
    performing = [t.bad[t.performing] for t in tables]
    rates = [b.mean() for b in performing if len(b)]
    target = float(max(rates)) if rates else 0.0
    kept = []
    for t in tables:
        keep = np.ones(len(t.bad), dtype=np.bool_)
        goods = np.flatnonzero(t.performing & (t.bad == 0))
        bads = int(t.bad[t.performing].sum())
        if target > 0 and bads > 0:
            wanted = round(bads * (1 - target) / target)
            if wanted < len(goods):
                drop = rng.choice(goods, size=len(goods) - wanted, replace=False)
                keep[drop] = False
        kept.append(keep)
    return np.concatenate(kept)


def _odds(bad: NDArray[np.int64]) -> float:
    """Good:bad odds of a sample."""
    bads = float(bad.sum())
    return (len(bad) - bads) / bads


def _prior_corrected(model: ScorecardModel, goods_kept: float) -> ScorecardModel:
    """The model fitted on a sample that kept ``goods_kept`` of the goods, its published odds
    put back on the population's: the same points mean odds ``1 / goods_kept`` times better.
    Scores do not move (points are untouched); default probabilities do."""
    table = model.table
    scaling = table.scaling.model_copy(update={"base_odds": table.scaling.base_odds / goods_kept})
    draft = table.model_copy(update={"scaling": scaling})
    return ScorecardModel(
        draft.model_copy(update={"model_id": content_id(draft.model_dump(mode="json"))})
    )


def _listed(
    store: Store, day: dt.date, persons: NDArray[Any], known: dt.datetime, rules: ScoringPolicy
) -> NDArray[np.bool_]:
    """Per person of ``persons``, whether a court listing was in force on ``day``: the policy
    caps that person's score under the calibration score."""
    pit = PointInTime(day, known, rules.retention_years)
    listed = store.con.sql(f"SELECT DISTINCT person_id FROM ({listings_query(pit)})").fetchall()
    return np.isin(persons, [r[0] for r in listed])


def _fitted(
    usable: dict[str, NDArray[Any]], y: NDArray[np.int64], rules: ScoringPolicy, version: str
) -> ScorecardModel:
    """The catalogue's scorecard fitted on the development rows, before calibration."""
    from credo.models.estimator import Scorecard

    spec = {f.name: f for f in CATALOGUE}
    return (
        Scorecard(
            dimensions={n: spec[n].dimension for n in usable},
            descriptions={n: spec[n].description for n in usable},
            directions={n: spec[n].direction for n in usable if spec[n].kind == "numeric"},
            categorical_features=[n for n in usable if spec[n].kind == "categorical"],
            max_bins=rules.training.max_bins,
            min_bin_size=rules.training.min_bin_size,
            woe_prior=rules.training.woe_prior_bads / float(y.mean()),
            pdo=rules.calibration.pdo,
            min_score=rules.min_score,
            max_score=rules.max_score,
            model_version=version,
            # the bureau keeps the WoE fit for now (decision 0108): the joint fit changed the
            # demo population's top scores and its bureau scale is not yet re-measured
            points_fit="woe",
        )
        .fit(usable, y)
        .model_
    )


def _overlap(last_training: dt.date, months: int, first_holdout: dt.date) -> dict[str, Any]:
    """When the newest training outcome window closes, and by how many months it reaches past
    the first holdout date (0: the holdout's outcomes are all later, an honest out-of-time
    test; docs/decisions/0539)."""
    gap = (first_holdout.year - last_training.year) * 12 + first_holdout.month
    gap -= last_training.month
    return {
        "training_outcomes_end": months_before(last_training, -months).isoformat(),
        "outcome_overlap_months": max(0, months - gap),
    }


def _fit(
    store: Store,
    model: ScorecardModel,
    usable: dict[str, NDArray[Any]],
    y: NDArray[np.int64],
    rules: ScoringPolicy,
    known: dt.datetime,
    outcome_months: int | None,
    holdout: dt.date | None,
    holdout_vintages: int = 1,
    features: Sequence[Feature] = CATALOGUE,
) -> dict[str, Any]:
    """The fit on the development rows and, with ``holdout``, on the performing persons of
    the ``holdout_vintages`` later observation dates ending there (out of time). Stacked
    dates repeat persons, so the distinct persons and bad persons are counted too."""
    fit: dict[str, Any] = {"in_time": fit_summary(y, model.predict_bad_probability(usable))}
    if holdout is not None:
        dates = [months_before(holdout, k) for k in range(max(1, holdout_vintages) - 1, -1, -1)]
        # a date at a time, its performing rows only: nothing else is measured
        tables = [
            training_table(
                store,
                d,
                policy=rules,
                known_at=known,
                outcome_months=outcome_months,
                features=features,
            ).performing_only(list(usable), persons=True)
            for d in dates
        ]
        later = TrainingTable.stacked(tables) if len(tables) > 1 else tables[0]
        del tables
        out = fit_summary(later.bad, model.predict_bad_probability(later.features))
        bad = later.bad == 1
        out["persons"] = len(set(later.persons.tolist()))
        out["bad_persons"] = len(set(later.persons[bad].tolist()))
        fit["out_of_time"] = out
        fit["holdout"] = holdout.isoformat()
        fit["holdout_dates"] = [d.isoformat() for d in dates]
    return fit
