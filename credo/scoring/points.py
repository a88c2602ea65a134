"""The model's points per person, read from the published points table (SPEC S3).

The compiled SQL gives each person's score and dimension points; the reasons and the next bins
to reach need more: each person's bin per feature, the points that bin loses against the best
bin they could reach, and what the next better bin would gain. "Missing" and "other" bins are
never targets, as in :func:`credo.models.explain`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from credo.features import DIMENSIONS
from credo.models.table import ScorecardModel
from credo.scoring.columns import as_floats, columns_of

__all__ = ["BinPoints", "bin_points", "dimension_columns", "dimension_points"]


@dataclass(frozen=True)
class BinPoints:
    """Per person (rows) and feature (columns), in points-table units; ``None`` without
    features: ``lost`` against the best reachable bin, ``gain`` to the next better bin."""

    lost: NDArray[np.int64] | None
    gain: NDArray[np.int64] | None


def _reachable(model: ScorecardModel, feature: str) -> list[int]:
    """The units of the bins a person can move into ("missing" and "other" excluded)."""
    units = model.units_of(feature)
    return [
        int(units[j])
        for j, row in enumerate(model.rows_of(feature))
        if row.kind in ("interval", "categories")
    ]


def _gain_per_bin(model: ScorecardModel, feature: str) -> NDArray[np.int64]:
    """Points gained by moving from each bin to the next better reachable one (0 at the best)."""
    targets = _reachable(model, feature)
    units = model.units_of(feature)
    return np.array(
        [min([t - int(w) for t in targets if t > w], default=0) for w in units], dtype=np.int64
    )


def _best_reachable_units(model: ScorecardModel, feature: str) -> int:
    """Points of the best bin a person can move into: a reason never says "fewer than the best
    (not known)"."""
    reachable = _reachable(model, feature)
    return max(reachable) if reachable else int(model.units_of(feature).max())


def bin_points(model: ScorecardModel, rows: pa.Table) -> BinPoints:
    """What each person's bins lose and could gain, from the features in ``rows``."""
    names = model.features
    if not names:
        return BinPoints(None, None)
    index = model.bin_indexes(columns_of(rows, names))
    units = np.column_stack([model.units_of(f)[index[f]] for f in names])
    best = np.array([_best_reachable_units(model, f) for f in names])
    gain = np.column_stack([_gain_per_bin(model, f)[index[f]] for f in names])
    return BinPoints(best[None, :] - units, gain)


def dimension_points(rows: pa.Table) -> dict[str, NDArray[np.float64] | None]:
    """Each dimension's points per person from the compiled SQL (``None``: no such column)."""
    points: dict[str, NDArray[np.float64] | None] = {}
    for dim in DIMENSIONS:
        col = f"dimension__{dim}"
        points[dim] = as_floats(rows.column(col)) if col in rows.column_names else None
    return points


def dimension_columns(
    model: ScorecardModel, points: dict[str, NDArray[np.float64] | None], n: int
) -> dict[str, pa.Array]:
    """``<dimension>_points`` and ``<dimension>_share``: the share of the dimension's range,
    from its features' lowest to highest bins."""
    names = model.features
    unit = model.unit
    dims_of = {s.name: s.dimension for s in model.table.features}
    lows = np.array([model.units_of(f).min() for f in names])
    # A dimension's maximum is its features' highest bins, "not known" included: a share over
    # 100% would be nonsense, and a missing bin can carry more points than any reachable one.
    highs = np.array([model.units_of(f).max() for f in names])
    columns: dict[str, pa.Array] = {}
    for dim in DIMENSIONS:
        dim_points = points[dim]
        members = [k for k, f in enumerate(names) if dims_of[f] == dim]
        if dim_points is None or not members:
            columns[f"{dim}_points"] = pa.nulls(n, pa.float64())
            columns[f"{dim}_share"] = pa.nulls(n, pa.float64())
            continue
        low = lows[members].sum() / unit
        span = (highs[members].sum() - lows[members].sum()) / unit
        share = np.round((dim_points - low) / span, 4) if span > 0 else np.ones(n)
        columns[f"{dim}_points"] = pa.array(dim_points, pa.float64())
        columns[f"{dim}_share"] = pa.array(share, pa.float64())
    return columns
