"""The catalogue: dimensions, words and SQL snapshots per dialect."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path

import pytest

from credo.features import CATALOGUE, DIMENSIONS, PointInTime, features_sql, months_before
from credo.models import DIMENSIONS as MODEL_DIMENSIONS

SNAPSHOTS = Path(__file__).parent / "snapshots"
#: CREDO_UPDATE_SNAPSHOTS=1 pytest tests/features rewrites the files instead.
UPDATE = os.environ.get("CREDO_UPDATE_SNAPSHOTS") == "1"
PIT = PointInTime(dt.date(2026, 10, 31), dt.datetime(2026, 11, 1, 6, 0))


def test_every_dimension_has_at_least_four_features() -> None:
    assert DIMENSIONS == MODEL_DIMENSIONS
    counts = Counter(f.dimension for f in CATALOGUE)
    assert set(counts) == set(DIMENSIONS) and min(counts.values()) >= 4
    assert len({f.name for f in CATALOGUE}) == len(CATALOGUE)
    assert all(f.description and f.description[0].islower() for f in CATALOGUE)


def test_windows_and_retention() -> None:
    assert PIT.since(12) == dt.date(2025, 11, 1)
    assert PIT.retention_cutoff == dt.date(2019, 10, 31)
    assert months_before(dt.date(2024, 3, 31), 1) == dt.date(2024, 2, 29)
    assert PIT.end == dt.datetime(2026, 11, 1)


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_features_sql_snapshot(dialect: str) -> None:
    text = features_sql(PIT, dialect_name=dialect, previous_run="monthly-20260930-000001")
    path = SNAPSHOTS / "features_sql" / dialect / "out.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with CREDO_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


def test_month_bitmask_counts_distinct_months() -> None:
    """``count_months`` (a bitmask) equals ``count(DISTINCT month)`` on the same rows."""
    import duckdb

    from credo.features.catalogue import Ctx
    from credo.sql import dialect

    c = Ctx(dialect("duckdb"), PIT)
    window = f"k.kind = 'payment' AND k.occurred_at >= {c.since(24)}"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE k AS SELECT i % 97 AS person_id,"
        " CASE WHEN hash(i) % 3 = 0 THEN 'bill' ELSE 'payment' END AS kind,"
        # From three months before the window to the as-of date (822 days).
        " TIMESTAMP '2024-08-01' + to_seconds((hash(i * 7) % (822 * 86400))::BIGINT)"
        " AS occurred_at FROM range(20000) t(i)"
    )
    rows = con.execute(
        f"SELECT person_id, {c.count_months(window, 'k.occurred_at')},"
        f" count(DISTINCT CASE WHEN {window} THEN {c.d.month_key('k.occurred_at')} END)"
        " FROM k GROUP BY person_id"
    ).fetchall()
    assert len(rows) == 97 and all(bits == distinct for _, bits, distinct in rows)
