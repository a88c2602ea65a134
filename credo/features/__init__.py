"""The feature catalogue and the point-in-time SQL that computes it (SPEC S3, S9).

Features are data: a name, a dimension, words for the scored person, an expected direction and
SQL. :func:`features_sql` compiles the whole catalogue for one point in time into one query
(DuckDB or Spark); :mod:`credo.scoring` runs it.
"""

from credo.features.catalogue import CATALOGUE, DIMENSIONS, Feature, feature
from credo.features.pit import PointInTime, months_before
from credo.features.sql import (
    AMENDABLE,
    ASSET_ROWS,
    ASSETS_WITHHELD,
    PASS_TYPES,
    Steps,
    asset_choice_sql,
    enrolled_sql,
    evidence_sql,
    feature_steps,
    features_sql,
    known_events,
    listings_sql,
    outcome_sql,
    restricted_sql,
)

__all__ = [
    "AMENDABLE",
    "ASSETS_WITHHELD",
    "ASSET_ROWS",
    "CATALOGUE",
    "DIMENSIONS",
    "PASS_TYPES",
    "Feature",
    "PointInTime",
    "Steps",
    "asset_choice_sql",
    "enrolled_sql",
    "evidence_sql",
    "feature",
    "feature_steps",
    "features_sql",
    "known_events",
    "listings_sql",
    "months_before",
    "outcome_sql",
    "restricted_sql",
]
