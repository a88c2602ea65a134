"""The CLI commands end to end on CSV and Parquet files, and their errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from credo.cli import app
from credo.models import ScorecardModel

from .conftest import DIMENSION_MAP, synthetic

runner = CliRunner()


def _write(path: Path, columns: dict[str, Any]) -> Path:
    table = pa.table({k: pa.array(list(v), from_pandas=True) for k, v in columns.items()})
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    X, y = synthetic(3000, seed=5)
    labels = np.where(y == 1, "bad", "good").astype(object)
    train = _write(root / "train.csv", {**X, "status": labels, "id": np.arange(len(y))})
    X2, _ = synthetic(1000, seed=6)
    other = _write(root / "other.parquet", X2)
    dims = root / "dimensions.yaml"
    dims.write_text(
        "\n".join(
            f"{k}: {{dimension: {v}, description: the {k.replace('_', ' ')}}}"
            for k, v in DIMENSION_MAP.items()
        )
    )
    model = root / "model.json"
    result = runner.invoke(
        app,
        [
            "train",
            "--table",
            str(train),
            "--target",
            "status",
            "--bad",
            "bad",
            "--dimension-map",
            str(dims),
            "--exclude",
            "id",
            "--out",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    return {"root": root, "train": train, "other": other, "dims": dims, "model": model}


def test_train_writes_a_loadable_table(files: dict[str, Path]) -> None:
    model = ScorecardModel.load(files["model"])
    assert sorted(model.features) == sorted(DIMENSION_MAP)
    assert model.table.training.target == "status" and model.table.training.bad_value == "bad"
    assert {s.name: s.description for s in model.table.features}["late_payments"] == (
        "the late payments"
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_score_table_matches_the_library(files: dict[str, Path], suffix: str) -> None:
    out = files["root"] / f"scored{suffix}"
    result = runner.invoke(
        app, ["score-table", str(files["other"]), "--model", str(files["model"]), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    reader = "read_parquet" if suffix == ".parquet" else "read_csv"
    scored = duckdb.sql(f"SELECT * FROM {reader}('{out}')").fetchnumpy()
    source = duckdb.sql(f"SELECT * FROM read_parquet('{files['other']}')").fetchnumpy()
    model = ScorecardModel.load(files["model"])
    assert np.array_equal(np.asarray(scored["score"], dtype=float), model.score(source))
    assert "points__income" in scored and "dimension__identity" in scored


def test_score_table_keeps_only_the_named_columns_and_the_score(files: dict[str, Path]) -> None:
    out = files["root"] / "slim.parquet"
    args = ["score-table", str(files["other"]), "--model", str(files["model"]), "--out", str(out)]
    result = runner.invoke(app, [*args, "--keep", "housing", "--keep", "age"])
    assert result.exit_code == 0, result.output
    scored = duckdb.sql(f"SELECT * FROM read_parquet('{out}')").fetchnumpy()
    assert list(scored) == ["housing", "age", "score"]
    source = duckdb.sql(f"SELECT * FROM read_parquet('{files['other']}')").fetchnumpy()
    assert list(scored["housing"]) == list(source["housing"])
    model = ScorecardModel.load(files["model"])
    assert np.array_equal(np.asarray(scored["score"], dtype=float), model.score(source))
    missing = runner.invoke(app, [*args, "--keep", "no_such_column"])
    assert missing.exit_code != 0 and "no_such_column" in missing.output


def test_validate_writes_report(files: dict[str, Path]) -> None:
    out = files["root"] / "report"
    result = runner.invoke(
        app,
        [
            "validate",
            "--model",
            str(files["model"]),
            "--table",
            str(files["train"]),
            "--target",
            "status",
            "--bad",
            "bad",
            "--compare",
            str(files["other"]),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["auc"] > 0.7 and report["psi"] is not None
    assert (out / "report.html").read_text().startswith("<!doctype html>")


def _fails(args: list[str], message: str, code: int) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split()), result.output


def test_bad_inputs_get_named_errors(files: dict[str, Path], tmp_path: Path) -> None:
    train, model = str(files["train"]), str(files["model"])
    out = str(tmp_path / "m.json")
    _fails(
        ["train", "--table", train, "--target", "outcome", "--out", out],
        "has no such column(s) 'outcome'",
        3,
    )
    _fails(
        ["train", "--table", str(tmp_path / "none.csv"), "--target", "y", "--out", out],
        "no such file",
        3,
    )
    one_class = _write(tmp_path / "one.csv", {"a": [1, 2, 3, 4], "y": [0, 0, 0, 0]})
    _fails(["train", "--table", str(one_class), "--target", "y", "--out", out], "one class only", 8)
    text = _write(
        tmp_path / "text.csv",
        {"a": [str(i) for i in range(30)] + ["twelve"], "y": [i % 2 for i in range(31)]},
    )
    _fails(
        ["train", "--table", str(text), "--target", "y", "--out", out],
        "'a' is numeric but row 31 holds 'twelve'",
        3,
    )
    _fails(
        ["train", "--table", train, "--target", "late_payments", "--out", out],
        "target column 'late_payments' must hold two values (bad and good)",
        3,
    )
    _fails(
        ["train", "--table", train, "--target", "status", "--out", out],
        "target column 'status' holds 'bad', 'good': say which value means bad",
        3,
    )
    _fails(
        ["train", "--table", train, "--target", "status", "--bad", "poor", "--out", out],
        "--bad 'poor' is not a value of target column 'status'",
        3,
    )
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"format": "credo.scorecard.points-table", "rows": []}))
    _fails(
        [
            "score-table",
            str(files["other"]),
            "--model",
            str(broken),
            "--out",
            str(tmp_path / "s.parquet"),
        ],
        "does not match the points-table schema",
        8,
    )
    _fails(
        ["score-table", str(one_class), "--model", model, "--out", str(tmp_path / "s.parquet")],
        "has no feature column(s) 'age', 'housing', 'income'",
        3,
    )
    texty = _write(
        tmp_path / "texty.csv",
        {**{k: ["1"] * 3 for k in DIMENSION_MAP}, "income": ["1", "2", "lots"]},
    )
    _fails(
        ["score-table", str(texty), "--model", model, "--out", str(tmp_path / "s.parquet")],
        "column 'income'",
        3,
    )


def test_constant_and_empty_features_warn_and_training_goes_on(tmp_path: Path) -> None:
    X, y = synthetic(1500, seed=7)
    empty = [None] * len(y)
    path = _write(tmp_path / "t.parquet", {**X, "country": ["NL"] * len(y), "b": empty, "y": y})
    out = tmp_path / "m.json"
    result = runner.invoke(app, ["train", "--table", str(path), "--target", "y", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "'country' is constant" in result.output
    assert "'b' is missing in every row" in result.output
    # A table without a dimension map is ordinary: no warning, one dimension for all.
    assert "dimension-map" not in result.output
    model = ScorecardModel.load(out)
    assert "country" not in model.features and "b" not in model.features
    assert {s.dimension for s in model.table.features} == {"unassigned"}


def test_partial_map_puts_the_rest_in_one_dimension_and_a_time_split_is_reported(
    tmp_path: Path,
) -> None:
    X, y = synthetic(2000, seed=8)
    month = np.repeat(np.arange(20), 100)
    when = [f"2024-{1 + m // 2:02d}-{1 + 10 * (m % 2):02d}" for m in month]
    path = _write(tmp_path / "t.csv", {**X, "applied": when, "y": y})
    dims = tmp_path / "d.yaml"
    dims.write_text("income: fulfilment_capacity\n")
    out = tmp_path / "m.json"
    args = ["train", "--table", str(path), "--target", "y", "--out", str(out)]
    args += ["--dimension-map", str(dims), "--rest-dimension", "other"]
    result = runner.invoke(app, [*args, "--time-column", "applied", "--validation-share", "0.25"])
    assert result.exit_code == 0, result.output
    model = ScorecardModel.load(out)
    dimension = {s.name: s.dimension for s in model.table.features}
    assert dimension.pop("income") == "fulfilment_capacity"
    assert set(dimension.values()) == {"other"} and "applied" not in dimension
    summary = model.table.training.fit_summary
    assert summary is not None and summary.holdout is not None
    assert (summary.train.rows, summary.holdout.rows) == (1500, 500)
    assert summary.split == "time: latest 0.25 by applied"
    printed = " ".join(result.output.split())
    assert f"holdout rows 500 AUC {summary.holdout.auc:.4f}" in printed
    assert f"train rows 1500 AUC {summary.train.auc:.4f}" in printed
    assert 0.6 < summary.holdout.auc < 0.95
