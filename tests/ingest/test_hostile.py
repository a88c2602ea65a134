"""Files a careless or hostile source sends: control characters in ids and text (issue 17)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_files import HEADER, payments_mapping, write

from credo.errors import RejectedRowsError
from credo.ingest.loader import ingest
from credo.store.db import Store

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _jsonl(path: Path, record_id: str, name: str = "A", note: str | None = None) -> Path:
    row = {"txn": record_id, "when": "01/03/2026 10:00", "fen": 100, "cat": "G",
           "mobile": "13800000001", "name": name, "note": note}  # fmt: skip
    return write(path, json.dumps(row) + "\n")


def _stored(store: Store, record_id: str) -> int:
    return int(store.scalar("SELECT count(*) FROM events WHERE source_record_id = ?", [record_id]))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_record_id_with_a_nul_is_refused_not_a_second_event(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    ingest(store, _jsonl(tmp_path / "a.jsonl", "7100142"), "shop", payments_mapping(format="jsonl"))
    if fmt == "csv":
        path = write(tmp_path / "b.csv", HEADER + "7100142\x00,01/03/2026 10:00,100,G,1,A,\n")
    else:
        path = _jsonl(tmp_path / "b.jsonl", "7100142\x00")
    with pytest.raises(RejectedRowsError, match="source_record_id: contains a control character"):
        ingest(store, path, "shop", payments_mapping(format=fmt))
    assert store.scalar("SELECT count(*) FROM events") == 1


def test_names_keep_line_breaks_but_not_other_controls(store: Store, tmp_path: Path) -> None:
    mapping = payments_mapping(format="jsonl")
    report = ingest(
        store, _jsonl(tmp_path / "a.jsonl", "N1", "two\nlines\tand a tab"), "shop", mapping
    )
    assert report.rows_new == 1
    with pytest.raises(RejectedRowsError, match="name: contains a control character"):
        ingest(store, _jsonl(tmp_path / "b.jsonl", "N2", "bell\x07"), "shop", mapping)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(record_id=st.text(min_size=1, max_size=40))
def test_loading_twice_adds_nothing_for_any_record_id(
    store: Store, tmp_path: Path, record_id: str
) -> None:
    """Any string as a record id: stored once and never again, or refused by name. Source text
    arrives trimmed of spaces, blanks as missing (the reader's rule)."""
    mapping = payments_mapping(format="jsonl")
    path = _jsonl(tmp_path / "any.jsonl", record_id)
    stored_id = store.scalar("SELECT nullif(trim(?), '')", [record_id])
    if stored_id is None or CONTROL.search(stored_id):
        reason = "missing" if stored_id is None else "contains a control character"
        with pytest.raises(RejectedRowsError, match=f"source_record_id: {reason}"):
            ingest(store, path, "shop", mapping)
        return
    before = _stored(store, stored_id)
    ingest(store, path, "shop", mapping)
    # Another file (an ignored column differs) with the same record: a duplicate, not an event.
    again = ingest(
        store, _jsonl(tmp_path / "again.jsonl", record_id, note="again"), "shop", mapping
    )
    assert (again.rows_new, again.rows_duplicate) == (0, 1)
    assert _stored(store, stored_id) == 1
    assert before in (0, 1)
