"""DuckDB and Spark give every person the same snapshot, bit for bit."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from credo.spark.lake import read_snapshots
from credo.spark.parity import bits, compare_snapshots

from .conftest import PANDAS_WARNING, PREVIOUS, Scored, as_number

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]


def test_every_snapshot_equals_duckdb_bit_for_bit(both: Scored) -> None:
    spark = read_snapshots(both.spark_folder / "snapshots")
    duck = both.duckdb
    assert spark.schema == duck.schema
    assert spark.num_rows == duck.num_rows > 300
    assert compare_snapshots(duck, spark) == []


def test_the_comparison_finds_a_changed_bit_and_a_missing_person(both: Scored) -> None:
    """The check the parity rests on (and ``benchmarks/monthly/parity.py`` reports) can fail:
    a score one ulp off, a ``-0.0`` trend, a person one engine left out."""
    duck = both.duckdb
    first = duck["person_id"][0].as_py()
    score = duck.column("score").to_pylist()
    score[1] = math.nextafter(score[1], math.inf)
    trend = duck.column("trend").to_pylist()
    k = next(i for i, t in enumerate(trend) if i > 1 and t == 0.0)
    trend[k] = -0.0
    changed = duck.set_column(duck.schema.get_field_index("score"), "score", pa.array(score))
    changed = changed.set_column(duck.schema.get_field_index("trend"), "trend", pa.array(trend))
    found = compare_snapshots(duck, changed.slice(1))
    assert [(d.person_id, d.column) for d in found] == [
        (first, "(missing)"),
        (duck["person_id"][1].as_py(), "score"),
        (duck["person_id"][k].as_py(), "trend"),
    ]


def test_every_feature_and_points_column_equals_duckdb(
    both: Scored, spark_features: pa.Table
) -> None:
    """The rows the snapshots are made from agree too (types may differ: Spark's sum of
    integers is BIGINT, DuckDB's HUGEINT): a feature that only happened not to cross a bin edge
    would show here."""
    duck, spark = both.duckdb_features, spark_features
    assert spark.column_names == duck.column_names
    for name in duck.column_names:
        d, s = duck.column(name).to_pylist(), spark.column(name).to_pylist()
        assert [bits(as_number(v)) for v in s] == [bits(as_number(v)) for v in d], name


def test_the_parity_covers_what_it_claims(both: Scored) -> None:
    """The population exercises the rules being compared: a trend against the previous run,
    thin files, more than one band, reasons and next bins, every sub-score."""
    rows = both.duckdb.to_pylist()
    assert sum(r["previous_score"] is not None for r in rows) > 0.9 * len(rows)
    assert {r["not_enough_history"] for r in rows} == {True, False}
    assert len({r["band"] for r in rows}) >= 3
    assert any(r["capped"] for r in rows)
    assert any(len(r["reason_codes"]) == 4 for r in rows)
    assert any(r["improve_codes"] for r in rows)
    for dimension in ("credit_history", "behaviour", "fulfilment_capacity", "identity"):
        assert any(r[f"{dimension}_points"] for r in rows), dimension


def test_the_spark_run_records_what_it_read(both: Scored) -> None:
    import json

    meta = json.loads((both.spark_folder / "run.json").read_text("utf-8"))
    assert meta["lake_manifest"] == both.lake.manifest_digest
    assert meta["model_id"] == both.lake.manifest.model_id
    assert meta["previous_run_id"].startswith(f"monthly-{PREVIOUS:%Y%m%d}-")
    assert meta["persons"] == both.duckdb.num_rows
