"""Reasons and improvements of a run's snapshots, from the published points table (SPEC S3).

Up to ``max_reasons`` reason codes per person, with the points each lost: the court listing
first, then "not enough history" for a thin file, else the features that lose most points
against their best reachable bin. Then the next bins to reach: the (at most three) features
whose next better bin gains most points. Both are ragged Arrow lists, one per person.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

__all__ = ["COURT_LIST", "NOT_ENOUGH_HISTORY", "improvements", "reasons"]

NOT_ENOUGH_HISTORY = "not_enough_history"
COURT_LIST = "court_list"
_IMPROVEMENTS = 3


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


def reasons(
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


def improvements(
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
