"""A small generated population, loaded once per session; each test resolves its own copy.

The population has more twins and surname changes than the default so that the hard cases
occur at this size. Loading is split by source so that a test can load part of it first.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from credo.ingest.loader import ingest
from credo.ingest.mapping import load_mapping
from credo.settings import Settings
from credo.sim import GenerationSummary, NoiseConfig, generate
from credo.store.db import Store

PEOPLE = 500
FIRST_SOURCES = (
    "identity_registry",
    "bank_loans",
    "court_list",
    "civic_conduct",
    "rental_partners",
)


@dataclass(frozen=True)
class Loaded:
    population: GenerationSummary
    db: Path  # a template database: copy it, never open it in place


def load_sources(store: Store, population: GenerationSummary, sources: tuple[str, ...]) -> None:
    manifest = json.loads(population.manifest.read_text(encoding="utf-8"))
    for source in sources:
        entry = manifest["sources"][source]
        if entry["rows"]:
            mapping = load_mapping(population.out / entry["mapping"])
            ingest(store, population.out / entry["file"], source, mapping, max_reject_rate=0.05)


def _template(tmp: Path, population: GenerationSummary, sources: tuple[str, ...]) -> Path:
    db = tmp / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        load_sources(store, population, sources)
    return db


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    noise = NoiseConfig(twin_persons=0.06, surname_change_persons=0.04)
    return generate(PEOPLE, 6, 11, tmp_path_factory.mktemp("identity-pop"), noise=noise)


@pytest.fixture(scope="session")
def loaded(tmp_path_factory: pytest.TempPathFactory, population: GenerationSummary) -> Loaded:
    manifest = json.loads(population.manifest.read_text(encoding="utf-8"))
    db = _template(tmp_path_factory.mktemp("identity-db"), population, tuple(manifest["sources"]))
    return Loaded(population, db)


@pytest.fixture(scope="session")
def partly_loaded(
    tmp_path_factory: pytest.TempPathFactory, population: GenerationSummary
) -> Loaded:
    db = _template(tmp_path_factory.mktemp("identity-part"), population, FIRST_SOURCES)
    return Loaded(population, db)


def copy_db(template: Path, to: Path) -> Settings:
    to.mkdir(parents=True, exist_ok=True)
    db = to / "credo.duckdb"
    shutil.copy(template, db)
    shutil.copy(template.with_suffix(".key"), db.with_suffix(".key"))
    return Settings(db=db)


@pytest.fixture(scope="session")
def resolved_db(tmp_path_factory: pytest.TempPathFactory, loaded: Loaded) -> Path:
    """The fully loaded database resolved once for the session (the model trained on it and
    stored in it): a template, like ``loaded.db``."""
    from credo.identity import resolve

    settings = copy_db(loaded.db, tmp_path_factory.mktemp("identity-resolved"))
    with Store.open(settings) as store:
        resolve(store)
        store.con.execute("CHECKPOINT")
    return settings.db


@pytest.fixture
def resolved_store(resolved_db: Path, tmp_path: Path) -> Iterator[Store]:
    """A copy of the fully loaded database, resolved (the model trained on it): copied from
    the session's template rather than resolved again for every test."""
    with Store.open(copy_db(resolved_db, tmp_path)) as store:
        yield store
