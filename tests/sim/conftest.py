"""Generated populations shared by the sim tests (generated once per session)."""

from __future__ import annotations

import pytest
from sim_reference import MEDIUM, SMALL, Checked, check_sources

from credo.sim import GenerationSummary, generate


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(out=tmp_path_factory.mktemp("small"), **SMALL)


@pytest.fixture(scope="session")
def medium(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(out=tmp_path_factory.mktemp("medium"), **MEDIUM)


@pytest.fixture(scope="session")
def medium_checked(medium: GenerationSummary) -> dict[str, Checked]:
    return {c.source: c for c in check_sources(medium)}
