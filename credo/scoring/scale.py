"""The published scale: what a score means as odds of repaying (issue 14, decision 0530).

A scorecard score is ``offset + factor * ln(good:bad odds)``. ``factor`` is the policy's points
to double the odds divided by ln 2; ``offset`` is set by the policy's anchor (training shifts it
so ``share_below`` of scored persons fall below the anchor score). A new user without history
gets the policy's ``not_enough_history.score`` (550, the same anchor). Both numbers are in the
model's points table, so each band's range of default probability follows from the model that
made the score and can be published next to it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from credo.models.table import ScorecardModel
from credo.policy.schema import ScoringPolicy

__all__ = ["BandRisk", "PublishedScale", "published_scale"]


@dataclass(frozen=True)
class BandRisk:
    """A band's scores and the default probability the scale gives its two ends."""

    band: str
    min_score: int
    max_score: int
    #: probability of a bad outcome at the band's top score (the lowest in the band)
    bad_rate_low: float
    #: probability at the band's bottom score (the highest in the band)
    bad_rate_high: float


@dataclass(frozen=True)
class PublishedScale:
    model_id: str
    points_to_double_odds: float
    factor: float
    offset: float
    anchor_score: int
    share_below: float
    new_user_score: int
    bands: tuple[BandRisk, ...]

    @property
    def formula(self) -> str:
        return f"score = {self.offset:.1f} + {self.factor:.2f} x ln(good:bad odds)"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "formula": self.formula}


def published_scale(model: ScorecardModel, policy: ScoringPolicy) -> PublishedScale:
    """The scale of ``model`` under ``policy``, with each band's default probability range."""
    scaling = model.table.scaling
    factor = scaling.pdo / math.log(2)
    offset = scaling.base_points - factor * math.log(scaling.base_odds)
    bands = []
    for band in policy.bands:
        ends = model.probability_from_points(np.array([band.max, band.min], np.float64))
        bands.append(BandRisk(band.name, band.min, band.max, float(ends[0]), float(ends[1])))
    return PublishedScale(
        model_id=model.model_id,
        points_to_double_odds=scaling.pdo,
        factor=factor,
        offset=offset,
        anchor_score=policy.calibration.score,
        share_below=policy.calibration.share_below,
        new_user_score=policy.not_enough_history.score,
        bands=tuple(bands),
    )
