"""Sub-scores: each dimension's share of its maximum lies in [0, 1] and means what it says."""

from __future__ import annotations

import datetime as dt

from credo.features.catalogue import DIMENSIONS
from credo.scoring import score, train_model
from credo.store.db import Store

from .conftest import END


def test_dimension_shares_are_between_none_and_all_of_the_maximum(loaded: Store) -> None:
    model = train_model(loaded, dt.date(2025, 10, 31)).model
    run = score(loaded, END, model)
    unit = model.unit
    for dim in DIMENSIONS:
        members = [s.name for s in model.table.features if s.dimension == dim]
        if not members:
            continue
        low = sum(int(model.units_of(f).min()) for f in members) / unit
        high = sum(int(model.units_of(f).max()) for f in members) / unit
        rows = loaded.con.execute(
            f"SELECT {dim}_points, {dim}_share FROM score_snapshots WHERE run_id = ?",
            [run.run_id],
        ).fetchall()
        assert rows
        for points, share in rows:
            assert 0.0 <= share <= 1.0, (dim, points, share)
            expected = (points - low) / (high - low) if high > low else 1.0
            assert abs(share - round(expected, 4)) < 1e-9
