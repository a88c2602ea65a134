"""The points table as a document: round trips, stable text, schema, and named errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.errors import ModelError
from credo.models import ScorecardModel, points_table_schema
from credo.models.table import content_id

from .conftest import handmade_table

SCHEMA_FILE = Path(__file__).parents[2] / "credo" / "models" / "schema" / "points-table.v1.json"


def test_round_trip_is_identical(fitted: Any, data: Any) -> None:
    text = fitted.model_.to_json()
    loaded = ScorecardModel.from_json(text)
    assert loaded.to_json() == text
    assert np.array_equal(loaded.score(data[0]), fitted.score_points(data[0]))


@settings(max_examples=10, deadline=None)
@given(decimals=st.integers(0, 2), version=st.text(min_size=1, max_size=8))
def test_round_trip_any_version_and_decimals(decimals: int, version: str) -> None:
    model = handmade_table(decimals)
    table = model.table.model_copy(update={"model_version": version})
    table = table.model_copy(update={"model_id": content_id(table.model_dump(mode="json"))})
    text = ScorecardModel(table).to_json()
    assert ScorecardModel.from_json(text).to_json() == text


def test_text_is_sorted_and_diffable(handmade: ScorecardModel) -> None:
    document = json.loads(handmade.to_json())
    assert list(document) == sorted(document)
    order = [(r["feature"], r["bin"]) for r in document["rows"]]
    assert order == sorted(order)
    assert handmade.to_json().count("\n") > len(document["rows"]) * 5  # one field a line


def test_schema_file_is_current() -> None:
    """The published schema is generated; regenerate with CREDO_UPDATE_SNAPSHOTS=1."""
    import os

    text = json.dumps(points_table_schema(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("CREDO_UPDATE_SNAPSHOTS") == "1":
        SCHEMA_FILE.parent.mkdir(exist_ok=True)
        SCHEMA_FILE.write_text(text, encoding="utf-8")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == text


def _broken(handmade: ScorecardModel, change: Any) -> str:
    document = json.loads(handmade.to_json())
    change(document)
    document["model_id"] = content_id(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("scaling"), r"schema at scaling: Field required"),
        (
            lambda d: d["rows"][4].update(points="ten"),
            r"schema at rows\[4\] \(feature 'income', bin 0\)\.points",
        ),
        (lambda d: d["scaling"].update(pdo=-5), r"scaling\.pdo: Input should be greater than 0"),
        (
            lambda d: d["rows"][5].update(lower=1600.0),
            r"feature 'income', bin 1: lower bound 1600.0 must equal the previous upper bound",
        ),
        (lambda d: d["rows"].pop(), r"feature 'late_payments': needs exactly one 'missing' row"),
        (lambda d: d["rows"][0].update(points=1.5), r"points 1.5 has more than 0 decimals"),
        (lambda d: d["rows"][0]["categories"].append("rent's"), r"appears in two bins"),
        (lambda d: d.update(surprise=1), r"surprise: Extra inputs are not permitted"),
    ],
)
def test_invalid_tables_name_the_problem(
    handmade: ScorecardModel, change: Any, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        ScorecardModel.from_json(_broken(handmade, change))


def test_hand_edit_without_new_id_is_refused(handmade: ScorecardModel) -> None:
    document = json.loads(handmade.to_json())
    document["rows"][0]["points"] = 99
    with pytest.raises(ModelError, match="does not match its content"):
        ScorecardModel.from_json(json.dumps(document))


def test_not_json_and_future_versions(handmade: ScorecardModel, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is not JSON: Expecting value at line 1 column 1"):
        ScorecardModel.from_json("nope")
    document = json.loads(handmade.to_json())
    document["format_version"] = 2
    with pytest.raises(ModelError, match="format_version 2; this Credo reads 1"):
        ScorecardModel.from_json(json.dumps(document))
    with pytest.raises(Exception, match="no model file"):
        ScorecardModel.load(tmp_path / "missing.json")


def test_save_and_load(handmade: ScorecardModel, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    handmade.save(path)
    assert ScorecardModel.load(path).model_id == handmade.model_id
