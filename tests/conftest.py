"""Shared fixtures: a real DuckDB file per test; and how the suite is split between processes
when it runs under pytest-xdist (``make test WORKERS=auto``, docs/decisions/0010)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from credo.settings import Settings
from credo.store.db import Store

# No property has a time limit: the tests assert behaviour, never speed, and under xdist two
# run at once on a 2-core machine, where a 200 ms deadline fails at random (docs/decisions/0010).
hypothesis_settings.register_profile("credo", deadline=None)
hypothesis_settings.load_profile("credo")

#: Test packages whose session fixtures are expensive (a generated population loaded, linked,
#: trained or scored; a Spark session; a browser), and the group each runs in: a group runs on
#: one worker, so its fixtures are built once. ``policy`` reads the scoring package's
#: population. Every other test file is a group of its own (its module fixtures built once).
SHARED = {
    "api": "api",
    "dashboard": "dashboard",
    "identity": "identity",
    "scoring": "scoring",
    "policy": "scoring",
    "sim": "sim",
    "spark": "spark",
}


def group_of(nodeid: str) -> str:
    """The group of a test id (``tests/api/test_api.py::test_x``): its package's where the
    package shares fixtures (``SHARED``), else its file's."""
    file = nodeid.split("::", 1)[0]
    parts = file.split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in SHARED:
        return SHARED[parts[1]]
    return file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n N --dist loadgroup`` (``make test WORKERS=auto``), each group (``group_of``)
    goes whole to one worker, the groups with most tests first. The groups are computed here,
    on the controller, from the test ids: pytest-xdist's own ``xdist_group`` marks are lost on
    pytest 9.2 (pytest-xdist issue 1386: it renames the test ids, which pytest no longer reads).
    """
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class PackageGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return PackageGroups(config, log)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "credo.duckdb")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings) as s:
        yield s
