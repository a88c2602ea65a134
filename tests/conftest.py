"""Shared fixtures: a real DuckDB file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from credo.settings import Settings
from credo.store.db import Store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "credo.duckdb")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings) as s:
        yield s
