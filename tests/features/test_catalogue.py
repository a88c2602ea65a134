"""The catalogue: dimensions, words and SQL snapshots per dialect."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.features import CATALOGUE, DIMENSIONS, PointInTime, features_sql, months_before
from credo.features.catalogue import CATEGORY_BITS, MERCHANT_CATEGORIES
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


# An off-list value (as an amendment or a service may write) and the list's own values.
_CATEGORY_VALUES = [None, "gaming", "Grocery", "pet_care", *MERCHANT_CATEGORIES]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.sampled_from(_CATEGORY_VALUES),
            st.dates(dt.date(2024, 1, 1), dt.date(2026, 10, 31)),
        ),
        max_size=60,
    )
)
def test_category_count_equals_count_distinct(rows: list[tuple[int, str | None, dt.date]]) -> None:
    """``spending_categories_12m`` (one bit per listed category, off-list values collected
    apart; docs/decisions/0980) equals ``count(DISTINCT ...)`` on any rows: NULLs, values
    outside the list or the window, persons with none in the window, case kept apart."""
    import duckdb

    from credo.features.catalogue import Ctx, _last_12m
    from credo.sql import dialect

    c = Ctx(dialect("duckdb"), PIT)
    feature = next(f for f in CATALOGUE if f.name == "spending_categories_12m")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE k (person_id INTEGER, merchant_category VARCHAR, occurred_at TIMESTAMP)"
    )
    if rows:
        con.executemany("INSERT INTO k VALUES (?, ?, ?)", [list(r) for r in rows])
    got = con.execute(
        f"SELECT person_id, {feature.expression(c)},"
        f" count(DISTINCT CASE WHEN {_last_12m(c)} THEN k.merchant_category END),"
        f" typeof({feature.expression(c)}) FROM k GROUP BY person_id"
    ).fetchall()
    assert len(got) == len({r[0] for r in rows})
    assert all(mask == distinct and kind == "BIGINT" for _, mask, distinct, kind in got), got


def test_the_category_bits_are_the_ingest_list_less_protected_values() -> None:
    """Every category a payment loads with has its own bit (a BIGINT holds 63) but a value
    that reveals a protected basis: naming it would make the feature read that basis."""
    from typing import get_args

    from credo.ingest.events import MerchantCategory
    from credo.policy.bases import VALUE_BASES, protected_features
    from credo.policy.rules import load_rules

    assert get_args(MerchantCategory) == MERCHANT_CATEGORIES
    protected = {v for (field, v) in VALUE_BASES if field == "merchant_category"}
    assert set(CATEGORY_BITS) == set(MERCHANT_CATEGORIES) - protected
    assert len(CATEGORY_BITS) <= 62
    assert protected_features(CATALOGUE, load_rules("default")) == {}
