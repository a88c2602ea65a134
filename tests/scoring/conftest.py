"""A small synthetic population, loaded and linked once, copied into each test's database."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credo.ingest.batch import ingest_population
from credo.settings import Settings
from credo.sim import generate
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.schema import event_table, stored_hashes

from .truth import link_from_truth

END = dt.date(2026, 10, 31)


@pytest.fixture(scope="session")
def population_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("population")
    generate(800, 24, 11, root / "pop", END)
    db = root / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, root / "pop", max_reject_rate=0.01)
        link_from_truth(store, root / "pop")
    return db


@pytest.fixture
def loaded(population_db: Path, tmp_path: Path) -> Iterator[Store]:
    db = tmp_path / "credo.duckdb"
    shutil.copy(population_db, db)
    shutil.copy(population_db.with_suffix(".key"), db.with_suffix(".key"))
    with Store.open(Settings(db=db)) as store:
        yield store


def add_events(store: Store, rows: list[dict[str, Any]], recorded_at: dt.datetime) -> list[int]:
    """Append events (and their subject links) as a source would, through the audited path."""
    ids: list[int] = []
    with store.write(AuditEntry("test", "add_events")) as con:
        next_id = con.execute("SELECT coalesce(max(event_id), 0) + 1 FROM events").fetchall()[0][0]
        for k, row in enumerate(rows):
            person = row.pop("person_id", None)
            values = {
                "event_id": next_id + k,
                "source": "test_source",
                "load_id": 0,
                "row_no": k + 1,
                "recorded_at": recorded_at,
                "source_record_id": f"T{next_id + k}",
                **row,
            }
            table = event_table(str(values.pop("event_type")))  # the table is the type
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            con.execute(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                list(stored_hashes(values).values()),
            )
            if person is not None:
                con.execute(
                    "INSERT INTO event_persons VALUES (?, 'subject', ?, ?)",
                    [next_id + k, person, recorded_at],
                )
            ids.append(next_id + k)
    return ids
