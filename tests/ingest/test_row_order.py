"""A file large enough for DuckDB to read in parallel keeps its row numbers: the rows refused
are the bad ones, by number, and every good one is stored (an ingest that staged the rows
once typed and once as text numbered them in two different orders, and stored bad rows)."""

from __future__ import annotations

import json
from pathlib import Path

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


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_refused_rows_are_the_bad_ones_by_number(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"rentals.{fmt}"
    rows = [_row(i) for i in range(1, ROWS + 1)]
    with path.open("w", encoding="utf-8") as out:
        if fmt == "jsonl":
            out.writelines(json.dumps(r) + "\n" for r in rows)
        else:
            out.write(",".join(rows[0]) + "\n")
            out.writelines(",".join(str(v) for v in r.values()) + "\n" for r in rows)
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
        stored = store.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE unpaid_amount < 0),"
            " count(*) FILTER (WHERE row_no <> CAST(substr(source_record_id, 2) AS BIGINT))"
            " FROM events_rental"
        ).fetchone()
    assert refused == list(range(BAD_EVERY, ROWS + 1, BAD_EVERY))
    assert stored == (ROWS - len(refused), 0, 0)  # every good row, each under its own number
