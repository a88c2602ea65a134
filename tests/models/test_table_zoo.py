"""The table zoo (issue 13): loan books as people bring them, round-tripped through the commands.

Each generated table has every kind of column a lender's file has: booleans in each spelling,
a yes/no target where "no" is bad, constant and all-missing columns, a high-cardinality
category, Chinese column names and values, a mixed-type column, dates, currency and percent
strings. Each is trained on, scored with ``score-table`` from CSV and from Parquet (text and
native types) and validated; the SQL scores equal the in-memory scores row for row, and the
same rows score alike whatever file holds them.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from credo.cli import app
from credo.models import ScorecardModel
from credo.models._errors import DataError
from credo.models._frame import infer_kind
from credo.models.reader import infer_schema, raw_types, read_typed
from credo.models.training import read_for_model

runner = CliRunner()

SPELLINGS = {
    "bool_true_false": ("true", "false"),
    "bool_title": ("True", "False"),
    "bool_yes_no": ("yes", "no"),
    "bool_upper_yn": ("Y", "N"),
    "bool_one_zero": ("1", "0"),
}
CITIES = np.array(["北京", "上海", "广州", "深圳", "成都"], dtype=object)


def zoo(n: int, seed: int) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The table as text cells (CSV-like) and the same table with native types (Parquet-like)."""
    rng = np.random.default_rng(seed)
    flags = {name: rng.random(n) < 0.4 + 0.05 * i for i, name in enumerate(SPELLINGS)}
    income = rng.lognormal(8, 0.7, n)
    rate = rng.uniform(2, 30, n).round(1)
    days = rng.integers(0, 3000, n)
    opened = np.datetime64("2015-01-01") + days.astype("timedelta64[D]")
    city = rng.choice(CITIES, n)
    branch = rng.integers(0, 400, n)
    years = rng.integers(0, 12, n)
    logit = (
        -0.6
        - 0.8 * (np.log(income) - 8)
        + 0.05 * (rate - 15)
        + 0.6 * flags["bool_yes_no"]
        - 0.5 * flags["bool_upper_yn"]
        + 0.3 * flags["bool_one_zero"]
        + np.where(city == "深圳", 0.6, 0.0)
        - 0.0002 * days
        - 0.05 * years
    )
    bad = rng.random(n) < 1 / (1 + np.exp(-logit))
    gap = rng.random(n) < 0.05  # cells left empty
    # Drawn last, so the columns above are the same as before it was added.
    balance = (income - 3500 + rng.normal(0, 800, n)).round(2)
    native: dict[str, list[Any]] = {
        name: [None if g else bool(f) for f, g in zip(flag, gap, strict=True)]
        for name, flag in flags.items()
    }
    native |= {
        "收入": [None if g else float(v) for v, g in zip(income.round(2), gap, strict=True)],
        "城市": list(city),
        "opened": [None if g else d.astype(object) for d, g in zip(opened, gap, strict=True)],
        "branch": [f"B{b:03d}" for b in branch],
        "country": ["CN"] * n,
        "spare": [None] * n,
        "rate": list(rate),
        "repaid": [not b for b in bad],
        "balance": [float(v) for v in balance],
    }
    text = {
        name: [None if v is None else SPELLINGS[name][not v] for v in native[name]]
        for name in SPELLINGS
    }
    text |= {
        "收入": [None if v is None else f"${v:,.2f}" for v in native["收入"]],
        "城市": native["城市"],
        "opened": [None if v is None else v.isoformat() for v in native["opened"]],
        "branch": native["branch"],
        "country": native["country"],
        "spare": native["spare"],
        "emp_length": [_employment(int(y)) for y in years],
        "rate": [f"{v}%" for v in rate],
        "repaid": ["yes" if v else "no" for v in native["repaid"]],
        "balance": [_accounting(v) for v in balance],
    }
    native["emp_length"] = text["emp_length"]
    return text, native


def _accounting(amount: float) -> str:
    """An amount as a ledger prints it: "1,234.50", a negative in parentheses "(2,441.47)"."""
    return f"({-amount:,.2f})" if amount < 0 else f"{amount:,.2f}"


def _employment(years: int) -> str:
    return "< 1 year" if years == 0 else "10+ years" if years >= 10 else str(years)


def _write(path: Path, columns: dict[str, list[Any]]) -> Path:
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    return path


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("zoo")
    text, _ = zoo(3000, seed=11)
    new_text, new_native = zoo(800, seed=12)
    files = {
        "train": _write(root / "train.csv", text),
        "new.csv": _write(root / "new.csv", new_text),
        "new_text.parquet": _write(root / "new_text.parquet", new_text),
        "new_native.parquet": _write(root / "new_native.parquet", new_native),
    }
    model = root / "model.json"
    output = _invoke(
        "train",
        "--table",
        str(files["train"]),
        "--target",
        "repaid",
        "--bad",
        "no",
        "--validation-share",
        "0.25",
        "--out",
        str(model),
    )
    assert "holdout" in output and "'spare' is missing in every row" in output
    return {**files, "model": model, "root": root}


def test_the_zoo_is_read_as_a_person_reads_it(books: dict[str, Path]) -> None:
    model = ScorecardModel.load(books["model"])
    training = model.table.training
    assert (training.target, training.bad_value, training.good_value) == ("repaid", "no", "yes")
    assert training.input_schema == {
        **dict.fromkeys(SPELLINGS, "boolean"),
        "bool_one_zero": "number",  # 1/0 is a number column; it bins the same
        "收入": "number",
        "城市": "text",
        "opened": "date",
        "branch": "text",
        "country": "text",
        "spare": "number",
        "emp_length": "text",
        "rate": "number",
        "balance": "number",
    }
    assert {d.name for d in model.table.dropped_features} >= {"country", "spare"}
    summary = training.fit_summary
    assert summary is not None and summary.holdout is not None
    # The signal is strong enough that a working reader must find it on unseen rows; a
    # misread flag or amount (all missing, or inverted) would drag the holdout AUC down.
    assert summary.holdout.auc > 0.68 and summary.train.auc > summary.holdout.auc - 0.05
    opened = next(r for r in model.table.rows if r.feature == "opened" and r.upper is not None)
    assert 20150101 <= opened.upper <= 20230301  # dates cut as YYYYMMDD


@pytest.mark.parametrize("source", ["new.csv", "new_text.parquet", "new_native.parquet"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sql_and_memory_scores_agree_row_for_row(
    books: dict[str, Path], source: str, suffix: str
) -> None:
    model = ScorecardModel.load(books["model"])
    out = books["root"] / f"scored-{source}{suffix}"
    _invoke("score-table", str(books[source]), "--model", str(books["model"]), "--out", str(out))
    scored = duckdb.sql(f"SELECT score FROM '{out}'").fetchnumpy()["score"]
    features = read_for_model(model, books[source])
    in_memory = model.score(features)
    assert np.array_equal(np.asarray(scored, dtype=float), in_memory)
    # Ledger negatives "(2,441.47)" read as the amounts the native Parquet holds.
    _, native = zoo(800, seed=12)
    assert np.array_equal(features["balance"], np.array(native["balance"]))
    # The same applicants score alike whichever file (and type) holds them.
    reference = model.score(read_for_model(model, books["new.csv"]))
    assert np.array_equal(in_memory, reference)


@pytest.mark.parametrize("source", ["new.csv", "new_native.parquet"])
def test_validate_reuses_the_models_coding(books: dict[str, Path], source: str) -> None:
    out = books["root"] / f"report-{source}"
    printed = _invoke(
        "validate", "--model", str(books["model"]), "--table", str(books[source]), "--out", str(out)
    )
    report = json.loads((out / "report.json").read_text())
    # Without --bad the model's "no" is bad (in Parquet the same answer reads false); an
    # inverted coding would report an AUC below 0.5.
    assert report["auc"] > 0.68 and f"AUC {report['auc']:.4f}" in printed


def test_scoring_refuses_a_cell_of_the_wrong_type(books: dict[str, Path]) -> None:
    text, _ = zoo(50, seed=13)
    text["收入"][7] = "lots"
    text["bool_yes_no"][3] = "maybe"
    path = _write(books["root"] / "wrong.csv", text)
    out = str(books["root"] / "wrong.parquet")
    result = runner.invoke(
        app, ["score-table", str(path), "--model", str(books["model"]), "--out", out]
    )
    assert result.exit_code == 3
    message = " ".join(result.output.split())
    assert "column 'bool_yes_no'" in message or "column '收入'" in message
    assert "the model expects" in message and "found text" in message
    assert "row 4 holds 'maybe'" in message or "row 8 holds 'lots'" in message


def _typed_column(cells: list[str | None], name: str = "c") -> tuple[str, list[Any]]:
    with tempfile.TemporaryDirectory() as root:
        path = _write(Path(root) / "t.csv", {name: cells, "pad": ["x"] * len(cells)})
        columns = raw_types(path)
        kind = infer_schema(path, columns, [name])[name]
        values = read_typed(path, columns, {name: kind})[name]
    return kind, [None if v is None or v != v else v for v in values.tolist()]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 11)), min_size=2, max_size=30))
def test_booleans_in_any_spelling_read_as_one_and_zero(cells: list[tuple[bool, int]]) -> None:
    words = [("yes", "no"), ("Y", "N"), ("TRUE", "FALSE"), ("t", "f"), ("1", "0"), ("No", "n")]
    spelt = [words[i % 5][0] if v else words[i % 6][1] for v, i in cells]
    kind, values = _typed_column(spelt)
    numbers_only = all(s in ("1", "0") for s in spelt)
    assert kind == ("number" if numbers_only else "boolean")
    assert values == [1.0 if v else 0.0 for v, _ in cells]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=20),
    st.sampled_from(["{:,}", "${:,}", "{}%", "{:,} €", "{}"]),
)
def test_numbers_with_separators_currency_and_percent(numbers: list[int], form: str) -> None:
    kind, values = _typed_column([form.format(n) for n in numbers] + ["", "n/a"])
    assert kind == "number"
    assert values == [float(n) for n in numbers] + [None, None]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=20),
    st.sampled_from(["({:,})", "(${:,})", "$({:,})", "({:,}.50)", "( {} )"]),
)
def test_accounting_negatives_read_as_negative_numbers(numbers: list[int], form: str) -> None:
    cells = [form.format(-n) if n < 0 else f"{n:,}" for n in numbers]
    kind, values = _typed_column([*cells, "-"])
    cents = 0.5 if ".50" in form else 0.0
    assert kind == "number"
    assert values == [float(n) - cents if n < 0 else float(n) for n in numbers] + [None]


@pytest.mark.parametrize("cell", ["(-5)", "(see note)", "(12", "(1,23)"])
def test_parentheses_around_anything_else_are_not_a_negative(cell: str) -> None:
    # A sign inside the parentheses, a word, an unclosed one, a bad separator: not a ledger
    # amount, so among ledger amounts it is the stray cell named by row (decision 0100).
    with pytest.raises(DataError, match=rf"row 2 holds '{re.escape(cell)}' \(1 such rows\)"):
        _typed_column(["(3)", cell, *["(1,234.50)"] * 9])


@pytest.mark.parametrize("marker", ["?", "#N/A", "-", "--", "N.A.", "nil", " NA "])
def test_public_tables_missing_markers_read_as_missing(marker: str) -> None:
    # UCI's credit files mark a missing number "?", spreadsheets "#N/A": the column is still
    # numeric, in the file reader and in the in-memory path alike.
    kind, values = _typed_column(["1,234", marker, "12", None])
    assert (kind, values) == ("number", [1234.0, None, 12.0, None])
    assert infer_kind(np.array(["7", marker, "12"], dtype=object), "c") == "numeric"
