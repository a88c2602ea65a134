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


def _origins_sql() -> str:
    """Each record id with its origin (first source row): what names a record under any key."""
    from credo.identity.records import event_record_key_sql

    return (
        f"SELECT {event_record_key_sql()} AS record_id, "
        "min(CAST(to_json([source, source_record_id]) AS VARCHAR)) AS origin FROM events GROUP BY 1"
    )


def _links_and_reviews(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The links (evidence) and review items, records named by origin, with their weights."""
    origins = _origins_sql()
    links = store.con.execute(
        f"WITH o AS ({origins}) SELECT least(a.origin, b.origin), greatest(a.origin, b.origin), "
        "l.rule, round(l.match_weight, 6), l.comparisons FROM identity_links l "
        "JOIN o a ON a.record_id = l.record_l JOIN o b ON b.record_id = l.record_r ORDER BY ALL"
    ).fetchall()
    reviews = store.con.execute(
        f"WITH o AS ({origins}) SELECT least(a.origin, b.origin), greatest(a.origin, b.origin), "
        "v.reason, round(v.match_weight, 6), v.status FROM identity_reviews v "
        "JOIN o a ON a.record_id = v.record_l JOIN o b ON b.record_id = v.record_r ORDER BY ALL"
    ).fetchall()
    return links, reviews


def test_persons_and_their_ids_are_the_same_under_another_identifier_key(
    loaded: Loaded, tmp_path: Path
) -> None:
    sources = tuple(json.loads(loaded.population.manifest.read_text(encoding="utf-8"))["sources"])
    found: list[tuple[str, list[str], tuple[list[tuple[object, ...]], ...]]] = []
    for n, key in enumerate(KEYS):
        db = tmp_path / f"key{n}.duckdb"
        with Store.open(Settings(db=db, secret_key=key)) as store:
            load_sources(store, loaded.population, sources)
            report = resolve(store)
            found.append((report.model_id, _persons(store), _links_and_reviews(store)))
    (model_a, persons_a, pairs_a), (model_b, persons_b, pairs_b) = found
    assert model_a == model_b
    assert persons_a == persons_b
    # the same evidence: every link and review item between the same records, same weights
    assert pairs_a[0] and pairs_a[0] == pairs_b[0]
    assert pairs_a[1] == pairs_b[1]
