"""Compiled SQL: exact snapshots per dialect, and the same points as the NumPy path."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.errors import ConfigError
from credo.models import FitError, ScorecardModel
from credo.models.sql import file_source, score_duckdb, scoring_sql

from .conftest import handmade_table

SNAPSHOTS = Path(__file__).parent / "snapshots"
#: CREDO_UPDATE_SNAPSHOTS=1 pytest tests/models/test_sql.py rewrites the files instead.
UPDATE = os.environ.get("CREDO_UPDATE_SNAPSHOTS") == "1"


def check_snapshot(test: str, dialect: str, text: str) -> None:
    path = SNAPSHOTS / test / dialect / "out.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with CREDO_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_scoring_sql_snapshot(dialect: str) -> None:
    check_snapshot(
        "scoring_sql", dialect, scoring_sql(handmade_table(), "applicants", dialect=dialect)
    )


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_scoring_sql_decimals_keep_snapshot(dialect: str) -> None:
    sql = scoring_sql(
        handmade_table(2),
        file_source("data/applicants.parquet", dialect=dialect),
        dialect=dialect,
        keep=["person_id"],
        dimension_points=False,
    )
    check_snapshot("scoring_sql_decimals_keep", dialect, sql)


def test_unknown_dialect_is_an_error(handmade: ScorecardModel) -> None:
    with pytest.raises(ConfigError, match="unknown SQL dialect 'oracle'"):
        scoring_sql(handmade, "t", dialect="oracle")


def test_spark_cannot_drop_the_feature_points_from_star(handmade: ScorecardModel) -> None:
    with pytest.raises(FitError, match="the spark dialect cannot drop columns from \\*"):
        scoring_sql(handmade, "t", dialect="spark", feature_points=False)
    assert "* EXCLUDE (" in scoring_sql(handmade, "t", feature_points=False)


# Values around and on every cut point, plus missing, NaN, infinities and unseen categories.
incomes = st.one_of(
    st.none(),
    st.sampled_from([1500.0, 3000.5, 1499.999, 3000.4999, math.nan, math.inf, -math.inf, 0.0]),
    st.floats(-1e6, 1e6, allow_nan=False),
)
lates = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 0.999, 2.0]), st.floats(-5, 50))
housings = st.one_of(
    st.none(), st.sampled_from(["own", "free", "rent's", "rent", "", "OWN"]), st.text(max_size=5)
)
rows = st.lists(st.tuples(incomes, lates, housings), min_size=1, max_size=40)


def _columns(sample: list[tuple[Any, Any, Any]]) -> dict[str, Any]:
    income = [r[0] for r in sample]
    late = [r[1] for r in sample]
    return {
        "income": np.array([math.nan if v is None else v for v in income], dtype=float),
        "late_payments": np.array([math.nan if v is None else v for v in late], dtype=float),
        "housing": np.array([r[2] for r in sample], dtype=object),
        "_income_null": [v is None for v in income],
        "_late_null": [v is None for v in late],
    }


def _arrow(columns: dict[str, Any]) -> pa.Table:
    """NULL where the value was None; NaN stays NaN (DuckDB keeps the two apart)."""
    return pa.table(
        {
            "income": pa.array(columns["income"], mask=np.array(columns["_income_null"])),
            "late_payments": pa.array(
                columns["late_payments"], mask=np.array(columns["_late_null"])
            ),
            "housing": pa.array(list(columns["housing"]), type=pa.string()),
        }
    )


@pytest.mark.parametrize("decimals", [0, 2])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=rows)
def test_sql_and_numpy_give_identical_points(decimals: int, sample: list[Any]) -> None:
    model = handmade_table(decimals)
    columns = _columns(sample)
    con = duckdb.connect()
    con.register("applicants", _arrow(columns))
    result = score_duckdb(model, "applicants", connection=con).fetchnumpy()
    assert np.array_equal(np.asarray(result["score"], dtype=float), model.score(columns))
    units = model.feature_units(columns)
    for name in model.features:
        sql_points = np.asarray(result[f"points__{name}"], dtype=float)
        assert np.array_equal(sql_points, units[name] / model.unit), name
    assert np.array_equal(
        np.asarray(result["raw_points"], dtype=float), model.raw_units(columns) / model.unit
    )


def test_scores_a_parquet_file(tmp_path: Path, fitted: Any, data: Any) -> None:
    X, _ = data
    model: ScorecardModel = fitted.model_
    path = tmp_path / "applicants.parquet"
    pq.write_table(pa.table({k: pa.array(v, from_pandas=True) for k, v in X.items()}), path)
    scored = duckdb.sql(scoring_sql(model, file_source(str(path)))).fetchnumpy()
    assert np.array_equal(np.asarray(scored["score"], dtype=float), model.score(X))
    dims = sum(np.asarray(scored[f"dimension__{d}"], dtype=float) for d in model.dimensions)
    assert np.array_equal(
        dims + model.table.intercept.points, np.asarray(scored["raw_points"], dtype=float)
    )


def test_scores_are_clipped(handmade: ScorecardModel) -> None:
    table = handmade.table.model_copy(
        update={"intercept": handmade.table.intercept.model_copy(update={"points": 2000})}
    )
    model = ScorecardModel(table)
    columns = {
        "income": np.array([1.0]),
        "late_payments": np.array([0.0]),
        "housing": np.array(["own"], dtype=object),
    }
    con = duckdb.connect()
    con.register("t", pa.table({k: list(v) for k, v in columns.items()}))
    sql_score = score_duckdb(model, "t", connection=con).fetchnumpy()["score"]
    assert float(sql_score[0]) == model.score(columns)[0] == 950


def _with_rows(model: ScorecardModel, **updates: dict[str, Any]) -> ScorecardModel:
    """The model with some rows changed; keys are ``<feature>:<bin>``."""
    rows = [
        row.model_copy(update=updates.get(f"{row.feature}:{row.bin}", {}))
        for row in model.table.rows
    ]
    return ScorecardModel(model.table.model_copy(update={"rows": rows}))


def _when_lines(sql: str, column: str) -> list[str]:
    return [line.strip() for line in sql.splitlines() if line.strip().startswith(f"WHEN {column}")]


def test_the_most_frequent_bin_is_tested_first(handmade: ScorecardModel) -> None:
    # In the handmade table "own" (bin 0) is listed first; give bin 1 more training rows.
    model = _with_rows(handmade, **{"housing:1": {"count": 50}})
    assert _when_lines(scoring_sql(model, "t"), '"housing"') == [
        "WHEN \"housing\" = 'free' THEN -14",
        "WHEN \"housing\" = 'rent''s' THEN -14",
        "WHEN \"housing\" = 'own' THEN 14",
        'WHEN "housing" IS NULL THEN -3',
    ]


def test_integer_columns_are_binned_as_the_floats_numpy_makes(handmade: ScorecardModel) -> None:
    """2**53 + 3 becomes the float 2**53 + 4: exactly on the cut, so in the upper bin, as in
    NumPy. A DECIMAL comparison of the exact integer would put it in the lower bin."""
    cut = float(2**53 + 4)
    model = _with_rows(handmade, **{"income:1": {"upper": cut}, "income:2": {"lower": cut}})
    values = [2**53 + 3, 2**53 + 5, 2**53 - 1, None]
    con = duckdb.connect()
    con.register(
        "t",
        pa.table(
            {
                "income": pa.array(values, type=pa.int64()),
                "late_payments": pa.array([0, 1, 2, None], type=pa.int64()),
                "housing": ["own", "rent", None, "free"],
            }
        ),
    )
    sql_points = score_duckdb(model, "t", connection=con).fetchnumpy()["points__income"]
    columns = {
        "income": np.array([np.nan if v is None else float(v) for v in values]),
        "late_payments": np.array([0.0, 1.0, 2.0, np.nan]),
        "housing": np.array(["own", "rent", None, "free"], dtype=object),
    }
    numpy_points = model.feature_units(columns)["income"] / model.unit
    assert list(numpy_points) == [25, 25, 4, -10]
    assert np.array_equal(np.asarray(sql_points, dtype=float), numpy_points)
