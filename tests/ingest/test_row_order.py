"""A file large enough for DuckDB to read in parallel keeps its row numbers: the rows refused
are the bad ones, by number, and every good one is stored (an ingest that staged the rows
once typed and once as text numbered them in two different orders, and stored bad rows).
The load reads the file once (docs/decisions/0963); the reasons of its bad rows are found
again from their own text, also for Parquet's typed columns."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from credo.ingest.loader import ingest
from credo.ingest.mapping import load_mapping
from credo.settings import Settings
from credo.store.db import Store

MAPPING = """\
version: 1
source: rentals
format: {fmt}
event_type: {{value: rental}}
fields:
  source_record_id: {{column: orderNo}}
  occurred_at: {{column: endTime, format: "%Y-%m-%dT%H:%M:%S"}}
  phone: {{column: mobile}}
  partner: {{column: partner}}
  item: {{column: item}}
  deposit: {{column: deposit}}
  returned_on_time: {{column: onTime}}
  unpaid_amount: {{column: unpaid}}
"""
ROWS = 120_000
BAD_EVERY = 997  # a negative unpaid amount: refused, with its row number


def _row(i: int) -> dict[str, object]:
    return {"orderNo": f"R{i:07d}", "endTime": f"2025-0{1 + i % 9}-1{i % 10}T08:{i % 60:02d}:00",
            "mobile": f"139{i:08d}", "partner": "hellobike", "item": "bike",
            "deposit": "waived", "onTime": "true",
            "unpaid": -1.5 if i % BAD_EVERY == 0 else round(i % 7 * 0.5, 2)}  # fmt: skip


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_the_refused_rows_are_the_bad_ones_by_number(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"rentals.{fmt}"
    rows = [_row(i) for i in range(1, ROWS + 1)]
    lines = tmp_path / "rows.jsonl"
    with (path if fmt != "parquet" else lines).open("w", encoding="utf-8") as out:
        if fmt != "csv":
            out.writelines(json.dumps(r) + "\n" for r in rows)
        else:
            out.write(",".join(rows[0]) + "\n")
            out.writelines(",".join(str(v) for v in r.values()) + "\n" for r in rows)
    if fmt == "parquet":  # typed columns (unpaid a DOUBLE), in many row groups read in parallel
        duckdb.sql(f"COPY (SELECT * FROM read_json('{lines}')) TO '{path}' (ROW_GROUP_SIZE 4096)")
    (tmp_path / "mapping.yaml").write_text(MAPPING.format(fmt=fmt), encoding="utf-8")
    mapping = load_mapping(tmp_path / "mapping.yaml")
    with Store.open(Settings(db=tmp_path / "credo.duckdb")) as store:
        ingest(store, path, "rentals", mapping, max_reject_rate=0.01)
        refused = [
            r
            for (r,) in store.con.execute(
                "SELECT DISTINCT row_no FROM quarantine ORDER BY 1"
            ).fetchall()
        ]
        first = store.con.execute(
            "SELECT row_no, field, reason, raw_value FROM quarantine ORDER BY row_no LIMIT 1"
        ).fetchone()
        stored = store.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE unpaid_amount < 0),"
            " count(*) FILTER (WHERE row_no <> CAST(substr(source_record_id, 2) AS BIGINT))"
            " FROM events_rental"
        ).fetchone()
    assert refused == list(range(BAD_EVERY, ROWS + 1, BAD_EVERY))
    assert first == (BAD_EVERY, "unpaid_amount", "must be at least 0 (negative)", "-1.5")
    assert stored == (ROWS - len(refused), 0, 0)  # every good row, each under its own number
