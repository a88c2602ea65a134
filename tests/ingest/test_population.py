"""A whole generated population through the loader: exact counts, the planted bad rows caught,
and every stored event valid under its typed model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.ingest.batch import ingest_population
from credo.ingest.events import EVENT_MODELS, PII_FIELDS
from credo.sim import GenerationSummary, generate
from credo.store.db import Store


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(400, 6, 11, tmp_path_factory.mktemp("pop"))


def test_population_loads_exactly_and_planted_rows_are_quarantined(
    store: Store, population: GenerationSummary
) -> None:
    reports = ingest_population(store, population.out, max_reject_rate=0.02)
    manifest = json.loads(population.manifest.read_text(encoding="utf-8"))
    planted = {(p["source"], p["row"], p["field"]) for p in manifest["invalid_rows"]}
    assert planted, "the generator should plant bad rows"
    caught = set(store.con.execute("SELECT source, row_no, field FROM quarantine").fetchall())
    assert caught == planted
    expected_rows = {s: v["rows"] for s, v in manifest["sources"].items() if v["rows"]}
    assert {r.source: r.rows_read for r in reports} == expected_rows
    for r in reports:
        assert r.rows_accepted + r.rows_rejected == r.rows_read
    assert store.scalar("SELECT count(*) FROM events") == sum(expected_rows.values()) - len(
        {(s, r) for s, r, _ in planted}
    )
    encodings = {r.source: r.encoding for r in reports}
    assert encodings["city_utilities"] == "gb18030"

    again = ingest_population(store, population.out, max_reject_rate=0.02)
    assert all(r.already_loaded_as is not None and r.rows_new == 0 for r in again)


def test_every_stored_event_validates_against_its_model(
    store: Store, population: GenerationSummary
) -> None:
    ingest_population(store, population.out, max_reject_rate=0.02)
    cur = store.con.execute("SELECT * FROM events ORDER BY event_id")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert rows
    seen = set()
    for row in rows:
        record = dict(zip(names, row, strict=True))
        etype = record["event_type"]
        model = EVENT_MODELS[etype]
        data = {
            k: v
            for k, v in record.items()
            if k in model.model_fields and k not in PII_FIELDS and v is not None
        }
        model.model_validate(data)
        seen.add(etype)
    assert seen == set(EVENT_MODELS) - {"correction"}


def test_a_population_folder_without_manifest_is_refused(store: Store, tmp_path: Path) -> None:
    from credo.errors import InputError

    with pytest.raises(InputError, match=r"no manifest\.json"):
        ingest_population(store, tmp_path)
