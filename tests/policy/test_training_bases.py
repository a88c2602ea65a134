"""RULES R-ECOA-1 at training: a feature that reads a protected basis is refused before anything
is read or fitted, naming the feature and the basis, and no model is registered."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from credo.errors import ConfigError
from credo.features.catalogue import CATALOGUE
from credo.scoring import train_model
from credo.settings import Settings
from credo.store.db import Store


def test_R_ECOA_1_training_refuses_a_feature_keyed_on_a_protected_basis(tmp_path: Path) -> None:
    base = CATALOGUE[0]
    by_sex = dataclasses.replace(
        base, name="women", expression=lambda _c: "count(CASE WHEN k.sex = 'F' THEN 1 END)"
    )
    by_age = dataclasses.replace(
        base, name="older", expression=lambda _c: "max(date_diff('year', k.birth_date, now()))"
    )
    with Store.open(Settings(db=tmp_path / "credo.duckdb")) as store:
        with pytest.raises(ConfigError) as caught:
            train_model(store, dt.date(2025, 10, 31), features=[*CATALOGUE, by_sex, by_age])
        message = caught.value.message
        assert "'older' (age)" in message and "'women' (sex)" in message
        assert "rules profile 'default' forbids" in message
        assert store.scalar("SELECT count(*) FROM models") == 0  # nothing was trained or saved
