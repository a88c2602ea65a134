"""Explanations a scored person can act on: where the points went, why, and how to gain more.

For each row: points per feature and per dimension; the top reasons, i.e. the features that
lost the most points against their best bin; and, per feature, the gain from moving to the next
better bin (the bin with the fewest points above the current one; for a monotonic feature that is
the neighbouring bin). "Missing" and "other" bins are never suggested as a target: nobody can
improve by becoming unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from credo.models.document import PointsRow
    from credo.models.table import ScorecardModel

__all__ = ["Explanation", "Improvement", "Reason", "explain"]


@dataclass(frozen=True)
class Reason:
    """A feature that cost points: ``points_lost`` against its best bin."""

    feature: str
    points: float
    points_lost: float
    text: str
    #: the feature's bin and its best reachable bin (rows of the points table), so a page can
    #: word them in the feature's unit
    bin: int = 0
    best_bin: int = 0


@dataclass(frozen=True)
class Improvement:
    """Moving ``feature`` from bin ``from_bin`` to ``to_bin`` would add ``gain`` points."""

    feature: str
    from_bin: int
    to_bin: int
    gain: float
    text: str


@dataclass(frozen=True)
class Explanation:
    score: float
    raw_points: float
    feature_points: dict[str, float]
    dimension_points: dict[str, float]
    reasons: list[Reason] = field(default_factory=list)
    improvements: list[Improvement] = field(default_factory=list)


def _next_better(units: np.ndarray, rows: tuple[PointsRow, ...]) -> list[int | None]:
    """Per bin, the reachable bin with the fewest points above it (None if it is the best)."""
    targets = [i for i, r in enumerate(rows) if r.kind in ("interval", "categories")]
    out: list[int | None] = []
    for i in range(len(rows)):
        better = [j for j in targets if units[j] > units[i]]
        out.append(min(better, key=lambda j: (units[j], abs(j - i))) if better else None)
    return out


def _best_reachable(units: np.ndarray, rows: tuple[PointsRow, ...]) -> int:
    """The best bin a person can move into: "not known" and "another value" are never
    held up as the best (nobody can become unknown), unless a feature has nothing else."""
    reachable = [i for i, r in enumerate(rows) if r.kind in ("interval", "categories")]
    return max(reachable, key=lambda i: (units[i], -i)) if reachable else int(np.argmax(units))


def _fmt(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def _state(description: str, row: PointsRow) -> str:
    return f"{description} is {row.description}"


def explain(model: ScorecardModel, data: object, *, top: int = 4) -> list[Explanation]:
    """One :class:`Explanation` per row of ``data`` (a mapping of columns or a DataFrame)."""
    indexes = model.bin_indexes(data)
    unit = model.unit
    scores = model.score(data)
    raw = model.raw_units(data) / unit
    specs = {spec.name: spec for spec in model.table.features}
    plans = {}
    for name in indexes:
        units = model.units_of(name)
        rows = model.rows_of(name)
        plans[name] = (units, rows, _best_reachable(units, rows), _next_better(units, rows))
    explanations: list[Explanation] = []
    for r in range(len(scores)):
        feature_points: dict[str, float] = {}
        dimension_points: dict[str, float] = dict.fromkeys(model.dimensions, 0.0)
        dimension_units: dict[str, int] = dict.fromkeys(model.dimensions, 0)
        reasons: list[Reason] = []
        improvements: list[Improvement] = []
        for name, index in indexes.items():
            units, rows, best, better = plans[name]
            spec = specs[name]
            b = int(index[r])
            feature_points[name] = int(units[b]) / unit
            dimension_units[spec.dimension] += int(units[b])
            lost = int(units[best] - units[b])
            description = spec.description[:1].upper() + spec.description[1:]
            if lost > 0:
                reasons.append(
                    Reason(
                        feature=name,
                        points=int(units[b]) / unit,
                        points_lost=lost / unit,
                        text=f"{_state(description, rows[b])}: {_fmt(lost / unit)}"
                        f" fewer than the best ({rows[best].description})",
                        bin=b,
                        best_bin=best,
                    )
                )
            target = better[b]
            if target is not None:
                gain = int(units[target] - units[b]) / unit
                improvements.append(
                    Improvement(
                        feature=name,
                        from_bin=b,
                        to_bin=target,
                        gain=gain,
                        text=f"{description}: moving from {rows[b].description} to"
                        f" {rows[target].description} would add {_fmt(gain)}",
                    )
                )
        for dim, total in dimension_units.items():
            dimension_points[dim] = total / unit
        reasons.sort(key=lambda x: (-x.points_lost, x.feature))
        improvements.sort(key=lambda x: (-x.gain, x.feature))
        explanations.append(
            Explanation(
                score=float(scores[r]),
                raw_points=float(raw[r]),
                feature_points=feature_points,
                dimension_points=dimension_points,
                reasons=reasons[:top],
                improvements=improvements,
            )
        )
    return explanations
