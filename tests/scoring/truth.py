"""Test setup: link events to persons from the generator's ground truth.

Scoring reads ``persons`` and ``event_persons``, which identity resolution fills. Filling them
from ``truth/records.parquet`` instead lets scoring be tested on its own; this is test setup,
never a resolver, and writes through the one audited path like everything else.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from credo.store.audit import AuditEntry
from credo.store.db import Store

LINKED_AT = dt.datetime(2026, 1, 1)


def link_from_truth(store: Store, population: Path) -> None:
    persons = str(population / "truth" / "persons.parquet")
    records = str(population / "truth" / "records.parquet")
    with store.write(AuditEntry("test", "link_from_truth", details={"population": "truth"})) as con:
        con.execute(
            "INSERT INTO persons SELECT person_id, ?, 'active' FROM read_parquet(?)"
            " WHERE person_id NOT IN (SELECT person_id FROM persons)",
            [LINKED_AT, persons],
        )
        con.execute(
            "INSERT INTO event_persons"
            " SELECT e.event_id, 'subject', r.person_id, ? FROM events e"
            " JOIN read_parquet(?) r ON r.source = e.source"
            " AND r.source_record_id = e.source_record_id"
            " WHERE e.event_id NOT IN (SELECT event_id FROM event_persons)",
            [LINKED_AT, records],
        )
        con.execute(
            "INSERT INTO event_persons"
            " SELECT e.event_id, 'counterpart', r.counterpart_person_id, ? FROM events e"
            " JOIN read_parquet(?) r ON r.source = e.source"
            " AND r.source_record_id = e.source_record_id"
            " WHERE r.counterpart_person_id IS NOT NULL AND e.event_id NOT IN"
            " (SELECT event_id FROM event_persons WHERE role = 'counterpart')",
            [LINKED_AT, records],
        )
