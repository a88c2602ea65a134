"""``explain_score``: one person's score taken apart (SPEC S10, RULES R-FCRA-14, R-GDPR-2a).

Everything comes from the recorded snapshot and the inputs it names: the same model, policy and
watermark recompute the person's features, so the points-table rows shown are the ones that made
the score, and each feature lists the events behind its value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from credo.errors import NotFoundError
from credo.features import (
    DIMENSIONS,
    PointInTime,
    asset_choice_sql,
    evidence_sql,
    feature,
    features_sql,
    months_before,
)
from credo.features.catalogue import actionable
from credo.models.explanations import Reason, explain
from credo.models.table import ScorecardModel
from credo.policy.rules import active_rules
from credo.policy.schema import ScoringPolicy, load_policy
from credo.scoring.columns import columns_of
from credo.scoring.latest import LatestSnapshot, latest_snapshot
from credo.scoring.reasons import COURT_LIST, NOT_ENOUGH_HISTORY
from credo.scoring.registry import load_model
from credo.scoring.scale import published_scale
from credo.scoring.standing import regime_standings
from credo.store.db import Store
from credo.store.rows import one, rows, value

__all__ = ["ScoreExplanation", "explain_score"]


@dataclass(frozen=True)
class ScoreExplanation:
    person_id: str
    as_of: dt.date
    run_id: str
    score: float
    band: str
    score_range: tuple[int, int]
    model_id: str
    policy: str
    known_at: dt.datetime
    sub_scores: dict[str, dict[str, float | None]]
    reasons: list[dict[str, Any]]
    improvements: list[dict[str, Any]]
    features: list[dict[str, Any]] = field(default_factory=list)
    #: the published scale of the model that made the score: formula and each band's default
    #: probability range (:func:`~credo.scoring.scale.published_scale`)
    scale: dict[str, Any] = field(default_factory=dict)
    #: balance, grade and ledger under each points regime run (:mod:`credo.scoring.standing`)
    regimes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reason_texts(
    snap: dict[str, Any],
    listings: tuple[str, ...],
    policy: ScoringPolicy,
    by_feature: dict[str, Reason],
) -> list[dict[str, Any]]:
    """The recorded reason codes in the person's words: the court listing and a thin file
    from the policy, a feature from the points table (else the catalogue)."""
    reasons: list[dict[str, Any]] = []
    for code, lost in zip(snap["reason_codes"], snap["reason_points"], strict=True):
        if code == COURT_LIST:
            text = (
                "On the court's list of judgment defaulters ("
                + "; ".join(item.replace(" | ", ", case ") for item in listings)
                + f"): the score is capped at {policy.court_list.cap} until the judgment is"
                " satisfied"
            )
        elif code == NOT_ENOUGH_HISTORY:
            rule = policy.not_enough_history
            text = (
                f"Not enough history: fewer than {rule.min_events} payments, bills, loans or"
                f" rentals over {rule.min_months} months; until there are that many, the score"
                f" stays at {rule.score}"
            )
        elif code in by_feature:
            reason = by_feature[code]
            reasons.append({"code": code, "points_lost": lost, "text": reason.text,
                            "bin": reason.bin, "best_bin": reason.best_bin})  # fmt: skip
            continue
        else:
            text = feature(code).description
        reasons.append({"code": code, "points_lost": lost, "text": text})
    return reasons


def _counts_until(code: str, events: list[dict[str, Any]], retention_years: int) -> str | None:
    """When the items behind a reason stop counting: each counts for its feature's window (or
    the retention period) after it; the oldest and newest name the dates. None: not a negative
    item, or no item behind it."""
    try:
        months = feature(code).counts_months
    except KeyError:
        return None
    if months is None or not events:
        return None
    span = 12 * retention_years if months == "retention" else months
    days = sorted(e["occurred_at"].date() for e in events)
    first, last = months_before(days[0], -span), months_before(days[-1], -span)
    rule = f"{retention_years} years" if months == "retention" else f"{months} months"
    if first == last:
        return f"the item behind it counts for {rule}, until {last}"
    return (
        f"each item behind it counts for {rule}: the oldest until {first}, the newest until {last}"
    )


def _evidence(
    store: Store,
    pit: PointInTime,
    person_id: str,
    model: ScorecardModel,
    *,
    withhold_assets: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Per feature, the events behind its value (no withheld asset row: it counted in none)."""
    evidence: dict[str, list[dict[str, Any]]] = {}
    sql = evidence_sql(pit, person_id, model.features, withhold_assets=withhold_assets)
    for event in rows(store.con, sql):
        evidence.setdefault(event.pop("feature"), []).append(event)
    return evidence


def _feature_rows(
    model: ScorecardModel,
    values: dict[str, Any],
    points: dict[str, float],
    evidence: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The points-table row each feature's value fell in, with its points and events."""
    index = model.bin_indexes(values)
    features = []
    for spec in model.table.features:
        row = model.rows_of(spec.name)[int(index[spec.name][0])]
        value = values[spec.name][0]
        features.append(
            {
                "feature": spec.name,
                "dimension": spec.dimension,
                "description": spec.description,
                "value": None if value is None or value != value else value,
                "bin": row.model_dump(mode="json"),
                "points": points[spec.name],
                "events": evidence.get(spec.name, []),
            }
        )
    return features


def _point_in_time(
    latest: LatestSnapshot, events_known_at: dt.datetime, retention_years: int
) -> PointInTime:
    """What the snapshot read: a correction re-score read the monthly run's events and the
    corrections known at its own watermark (docs/decisions/0531)."""
    if latest.kind == "correction":
        return PointInTime(
            latest.as_of, events_known_at, retention_years, corrections_known_at=latest.known_at
        )
    return PointInTime(latest.as_of, latest.known_at, retention_years)


def explain_score(store: Store, person_id: str, as_of: dt.date | None = None) -> ScoreExplanation:
    """The latest snapshot of ``person_id`` on or before ``as_of`` (default: the latest)."""
    latest = latest_snapshot(store, person_id, as_of)
    if latest is None and not store.scalar(
        "SELECT count(*) FROM persons WHERE person_id = ?", [person_id]
    ):
        raise NotFoundError(
            f"no person {person_id!r}",
            hint="person ids are as 'credo resolve' made them (the demo prints some)",
        )
    if latest is None:
        raise NotFoundError(
            f"no score for person {person_id!r}" + (f" on or before {as_of}" if as_of else ""),
            hint="run 'credo score --as-of DATE' first",
        )
    # The sub-scores and reasons are this one person's row of the run; decisions never need them.
    snap = one(
        store.con,
        "SELECT * FROM score_snapshots WHERE run_id = ? AND person_id = ?",
        [latest.run_id, person_id],
    )
    assert snap is not None
    model = load_model(store, latest.model_id)
    policy = load_policy(latest.policy_name).policy
    assert isinstance(policy, ScoringPolicy)
    pit = _point_in_time(latest, snap["known_at"], policy.retention_years)
    # The person's own recorded score, explained to them: a restriction does not hide it
    # (GDPR Art. 15 access goes on while processing is restricted; decision 0647).
    gated = active_rules(store.settings).consents.assets_written  # R-CRR-4
    sql = features_sql(
        pit, person=person_id, previous_run=latest.previous_run_id, hold_restricted=False,
        withhold_assets=gated,
    )  # fmt: skip
    values = columns_of(store.con.sql(sql).to_arrow_table(), model.features)
    detail = explain(model, values, top=len(model.features))[0]
    by_feature = {r.feature: r for r in detail.reasons}
    withheld = gated and value(store.con, asset_choice_sql(pit, person_id)) != "grant_assets"
    evidence = _evidence(store, pit, person_id, model, withhold_assets=withheld)
    retention = policy.retention_years
    return ScoreExplanation(
        person_id=person_id,
        as_of=latest.as_of,
        run_id=latest.run_id,
        score=latest.score,
        band=latest.band,
        score_range=(policy.min_score, policy.max_score),
        model_id=snap["model_id"],
        policy=latest.scoring_policy,
        known_at=latest.known_at,
        sub_scores={
            d: {"points": snap[f"{d}_points"], "share": snap[f"{d}_share"]} for d in DIMENSIONS
        },
        reasons=[
            r | {"counts_until": _counts_until(r["code"], evidence.get(r["code"], []), retention)}
            for r in _reason_texts(snap, latest.court_listings, policy, by_feature)
        ],
        improvements=[
            {
                "feature": i.feature,
                "gain": i.gain,
                "text": i.text,
                "from_bin": i.from_bin,
                "to_bin": i.to_bin,
            }
            for i in detail.improvements
            if actionable(i.feature)
        ][:3],
        features=_feature_rows(model, values, detail.feature_points, evidence),
        scale=published_scale(model, policy).to_dict(),
        regimes=[s.to_dict() for s in regime_standings(store, person_id)],
    )
