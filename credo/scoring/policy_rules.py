"""The scoring policy applied to the model's scores (SPEC S3, S6, S9).

In order: the weight of the connections dimension, "not enough history" for a thin file (and
the credibility ramp above it), the court-list cap while a listing is in force, then the bands.
The policy file says every number (``policies/zhima.yaml``); this module only applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from credo.errors import ConfigError, ModelError
from credo.features import PointInTime, listings_sql
from credo.features.sql import LISTING_GRACE_MONTHS
from credo.models.table import ScorecardModel
from credo.policy.schema import LoadedPolicy, ScoringPolicy, load_policy
from credo.scoring.columns import as_floats

__all__ = [
    "Applied",
    "apply_policy",
    "bands",
    "check_scale",
    "court_listings",
    "listings_query",
    "resolve_policy",
    "scoring_policy",
]


def resolve_policy(policy: LoadedPolicy | str | None) -> LoadedPolicy:
    """A loaded policy as given, else loaded by name (default ``zhima``)."""
    return policy if isinstance(policy, LoadedPolicy) else load_policy(policy or "zhima")


def scoring_policy(loaded: LoadedPolicy) -> ScoringPolicy:
    """The scoring policy of ``loaded``; a points regime cannot score."""
    if not isinstance(loaded.policy, ScoringPolicy):
        raise ConfigError(f"policy {loaded.path!r} is a points regime, not a scoring policy")
    return loaded.policy


def check_scale(model: ScorecardModel, loaded: LoadedPolicy) -> None:
    """A model scores on its own scale; the policy's bands and caps assume theirs."""
    policy = scoring_policy(loaded)
    scaling = model.table.scaling
    if (scaling.min_score, scaling.max_score) != (policy.min_score, policy.max_score):
        raise ModelError(
            f"model {model.model_id} scores {scaling.min_score:g}-{scaling.max_score:g},"
            f" policy {loaded.name} {policy.min_score}-{policy.max_score}"
        )


def listings_query(
    pit: PointInTime, *, dialect_name: str = "duckdb", grace_months: int = LISTING_GRACE_MONTHS
) -> str:
    """The listings in force, in the order a person's list shows them, on either engine."""
    listed = listings_sql(pit, dialect_name=dialect_name, grace_months=grace_months)
    return (
        f"SELECT person_id, court, case_number FROM ({listed}) l"
        " ORDER BY person_id, listed_on, court, case_number"
    )


def court_listings(listed: pa.Table, persons: pa.Array) -> tuple[NDArray[np.bool_], pa.ListArray]:
    """Per person, whether a court listing is in force and the listings ("court | case"), from
    the rows of :func:`listings_query`."""
    listings: dict[str, list[str]] = {}
    for listing in listed.to_pylist():
        text = f"{listing['court']} | {listing['case_number']}"
        listings.setdefault(listing["person_id"], []).append(text)
    listed_persons = pa.array(list(listings), pa.string())
    row = pc.index_in(persons, value_set=listed_persons)
    # The listed persons' lists, then one empty list that every other person points at.
    lists = pa.array([*listings.values(), []], pa.list_(pa.string()))
    return np.asarray(row.is_valid()), lists.take(pc.fill_null(row, len(listings)))


@dataclass(frozen=True)
class Applied:
    """Per person: the model's score (after the connections weight), the final score, and
    which rules acted (a thin file, a listing in force, the cap lowering the score)."""

    model_score: NDArray[np.float64]
    score: NDArray[np.float64]
    thin: NDArray[np.bool_]
    listed: NDArray[np.bool_]
    capped: NDArray[np.bool_]
    court_listings: pa.ListArray


def _model_score(
    scored: pa.Table, connections: NDArray[np.float64] | None, policy: ScoringPolicy, unit: int
) -> NDArray[np.float64]:
    """The compiled score, with the connections dimension counted at the policy's weight."""
    model_score = as_floats(scored.column("score"))
    if connections is not None and policy.connections_weight < 1.0:
        raw = as_floats(scored.column("raw_points"))
        raw = raw - np.round((1.0 - policy.connections_weight) * connections * unit) / unit
        model_score = np.clip(raw, policy.min_score, policy.max_score)
    return model_score


def apply_policy(
    listed_rows: pa.Table,
    scored: pa.Table,
    persons: pa.Array,
    connections: NDArray[np.float64] | None,
    policy: ScoringPolicy,
    unit: int,
) -> Applied:
    """The policy's rules over the ``scored`` rows, one per person of ``persons``, with the
    listings in force (``listed_rows``, from :func:`listings_query`)."""
    model_score = _model_score(scored, connections, policy, unit)
    history_events = as_floats(scored.column("history_events"))
    history_months = as_floats(scored.column("history_months"))
    history_months = np.where(np.isnan(history_months), -1.0, history_months)
    rule = policy.not_enough_history
    thin = (history_events < rule.min_events) | (history_months < rule.min_months)
    weight = rule.credibility(history_events, history_months)
    final = np.where(
        thin, float(rule.score), np.round(rule.score + weight * (model_score - rule.score))
    )
    listed, listings = court_listings(listed_rows, persons)
    capped = listed & (final > policy.court_list.cap)
    final = np.where(listed, np.minimum(final, policy.court_list.cap), final)
    return Applied(model_score, final, thin, listed, capped, listings)


def bands(policy: ScoringPolicy, score: NDArray[np.float64]) -> pa.Array:
    """Each score's band name (a score above the last band's end is in the last band)."""
    band_ends = np.array([b.max + 1 for b in policy.bands], np.float64)
    band_names = pa.array([b.name for b in policy.bands], pa.string())
    band = np.minimum(np.searchsorted(band_ends, score, side="right"), len(band_ends) - 1)
    return band_names.take(pa.array(band))
