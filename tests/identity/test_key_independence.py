"""Persons must not depend on the identifier key.

Identifier hashes are keyed, and record ids digest them, so the same events under another key
have other record ids. Splink samples records by their unique id (for u, and for EM past its
pair cap): sampling by record id gave each fresh key, as in each fresh demo, another model and
other persons (10,524 against 10,494 in the 10k demo population). New persons were numbered in
record-id order, so even the same persons got other ids, and the scorecard, trained on rows in
person-id order, another fit.
"""

from __future__ import annotations

import json
from pathlib import Path

from credo.identity import resolve
from credo.settings import Settings
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import Loaded, load_sources

KEYS = ("11" * 32, "7e" * 32)


def _persons(store: Store) -> list[str]:
    """Each person id with the links it holds: the same persons, numbered alike."""
    found = rows(
        store.con,
        "SELECT person_id || '=' || string_agg(event_id || ':' || role, ',' ORDER BY event_id,"
        " role) AS person FROM event_persons GROUP BY person_id ORDER BY person",
    )
    return [r["person"] for r in found]


def test_persons_and_their_ids_are_the_same_under_another_identifier_key(
    loaded: Loaded, tmp_path: Path
) -> None:
    sources = tuple(json.loads(loaded.population.manifest.read_text(encoding="utf-8"))["sources"])
    found: list[tuple[str, list[str]]] = []
    for n, key in enumerate(KEYS):
        db = tmp_path / f"key{n}.duckdb"
        with Store.open(Settings(db=db, secret_key=key)) as store:
            load_sources(store, loaded.population, sources)
            report = resolve(store)
            found.append((report.model_id, _persons(store)))
    (model_a, persons_a), (model_b, persons_b) = found
    assert model_a == model_b
    assert persons_a == persons_b
