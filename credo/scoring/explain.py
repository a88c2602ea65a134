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
from credo.features import DIMENSIONS, PointInTime, evidence_sql, feature, features_sql
from credo.models.explanations import explain
from credo.policy.schema import ScoringPolicy, load_policy
from credo.scoring.columns import columns_of
from credo.scoring.registry import load_model
from credo.scoring.snapshots import COURT_LIST, NOT_ENOUGH_HISTORY
from credo.store.db import Store

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain_score(store: Store, person_id: str, as_of: dt.date | None = None) -> ScoreExplanation:
    """The latest snapshot of ``person_id`` on or before ``as_of`` (default: the latest)."""
    rows = store.con.execute(
        "SELECT s.*, r.kind, r.policy_name, r.previous_run_id FROM score_snapshots s"
        " JOIN score_runs r ON r.run_id = s.run_id"
        " WHERE s.person_id = ? AND s.as_of <= coalesce(?, s.as_of)"
        " ORDER BY s.as_of DESC, r.seq DESC LIMIT 1",
        [person_id, as_of],
    ).fetchall()
    if not rows:
        raise NotFoundError(
            f"no score for person {person_id!r}" + (f" on or before {as_of}" if as_of else ""),
            hint="run 'credo score --as-of DATE' first",
        )
    names = [d[0] for d in store.con.description or []]
    snap = dict(zip(names, rows[0], strict=True))
    model = load_model(store, snap["model_id"])
    policy = load_policy(snap["policy_name"]).policy
    assert isinstance(policy, ScoringPolicy)
    pit = PointInTime(snap["as_of"], snap["known_at"], policy.retention_years)
    sql = features_sql(pit, person=person_id, previous_run=snap["previous_run_id"])
    table = store.con.sql(sql).to_arrow_table()
    values = columns_of(table, model.features)
    detail = explain(model, values, top=len(model.features))[0]
    by_feature = {r.feature: r.text for r in detail.reasons}
    listings = list(snap["court_listings"])
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
                f" rentals over {rule.min_months} months; the score is {rule.score} until there are"
            )
        else:
            text = by_feature.get(code, feature(code).description)
        reasons.append({"code": code, "points_lost": lost, "text": text})
    evidence: dict[str, list[dict[str, Any]]] = {}
    for name, event_id, source, record, event_type, occurred in store.con.execute(
        evidence_sql(pit, person_id, model.features)
    ).fetchall():
        evidence.setdefault(name, []).append(
            {
                "event_id": event_id,
                "source": source,
                "source_record_id": record,
                "event_type": event_type,
                "occurred_at": occurred,
            }
        )
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
                "points": detail.feature_points[spec.name],
                "events": evidence.get(spec.name, []),
            }
        )
    return ScoreExplanation(
        person_id=person_id,
        as_of=snap["as_of"],
        run_id=snap["run_id"],
        score=snap["score"],
        band=snap["band"],
        score_range=(policy.min_score, policy.max_score),
        model_id=snap["model_id"],
        policy=f"{snap['policy_name']} {snap['policy_version']}",
        known_at=snap["known_at"],
        sub_scores={
            d: {"points": snap[f"{d}_points"], "share": snap[f"{d}_share"]} for d in DIMENSIONS
        },
        reasons=reasons,
        improvements=[
            {"feature": i.feature, "gain": i.gain, "text": i.text} for i in detail.improvements[:3]
        ],
        features=features,
    )
