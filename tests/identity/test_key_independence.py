"""Persons must not depend on the identifier key.

Identifier hashes are keyed, and record ids digest them, so the same events under another key
have other record ids. Splink samples records by their unique id (for u, and for EM past its
pair cap): sampling by record id gave each fresh key, as in each fresh demo, another model and
other persons (10,524 against 10,494 in the 10k demo population). New persons were numbered in
record-id order, so even the same persons got other ids, and the scorecard, trained on rows in
person-id order, another fit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from credo.identity import resolve
from credo.ingest.batch import ingest_population
from credo.scoring import score, train_model
from credo.settings import Settings
from credo.sim import NoiseConfig, generate
from credo.store.db import Store
from credo.store.rows import rows

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


SCORED_AT = dt.date(2026, 10, 31)


def _scores(store: Store) -> list[tuple[object, ...]]:
    """Every person's published score, band, reasons and points, from the monthly run."""
    return store.con.execute(
        "SELECT person_id, round(score, 9), band, round(model_score, 9), reason_codes, "
        "list_transform(reason_points, lambda p: round(p, 9)), not_enough_history "
        "FROM score_snapshots ORDER BY person_id"
    ).fetchall()


def test_persons_links_and_scores_are_the_same_under_another_identifier_key(
    tmp_path: Path,
) -> None:
    """One population loaded into two databases with different keys: ingest, resolve, train
    the scorecard and score a month give the same linkage model, persons (and ids), links,
    review items, scorecard and scores. Small (200 persons, with the identity tests' twins and
    surname changes) to stay cheap; two years so that a scorecard can be trained."""
    noise = NoiseConfig(twin_persons=0.06, surname_change_persons=0.04)
    population = generate(200, 24, 5, tmp_path / "pop", SCORED_AT, noise=noise)
    found = []
    for n, key in enumerate(KEYS):
        with Store.open(Settings(db=tmp_path / f"key{n}.duckdb", secret_key=key)) as store:
            ingest_population(store, population.out, max_reject_rate=0.01)
            report = resolve(store)
            trained = train_model(store, dt.date(2025, 10, 31))
            run = score(store, SCORED_AT)
            found.append(
                (report.model_id, trained.model.model_id, run.persons, _persons(store),
                 _links_and_reviews(store), _scores(store))
            )  # fmt: skip
    a, b = found
    assert a[0] == b[0]  # the linkage model
    assert a[3] == b[3]  # persons, with their ids and events
    # the same evidence: every link and review item between the same records, same weights
    assert a[4][0] and a[4] == b[4]
    assert a[1] == b[1]  # the scorecard
    assert a[2] == b[2] == len(a[5]) > 100
    assert a[5] == b[5]  # every person's score, band, reasons and points
