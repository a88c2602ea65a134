"""National ids at load (issue 17, item 10b; docs/decisions/0622): not of the GB 11643 shape
is a reject (quarantined, masked); the right shape with a wrong check digit loads, and
identity does not trust it for an exact match."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_files import PAYMENTS_MAPPING, payments_mapping, write

from credo.errors import RejectedRowsError
from credo.identifiers import is_valid_gb11643, mask
from credo.ingest.loader import ingest
from credo.store.db import Store

VALID = "110101199003072316"
WRONG_CHECK = "110101199003072317"
HEADER = "txn,when,fen,cat,mobile,name,note,nid\n"


def _mapping() -> object:
    fields = {**PAYMENTS_MAPPING["fields"], "national_id": {"column": "nid"}}  # type: ignore[dict-item]
    return payments_mapping(fields=fields)


def _row(record: str, nid: str) -> str:
    return f"{record},01/03/2026 10:00,100,G,13800000001,张伟,,{nid}\n"


@pytest.mark.parametrize(
    "bad", ["11010119900307231A", "1101011990030723", "110101 199003072316", "ABCDEFGHIJKLMNOPQR"]
)
def test_an_id_not_of_the_gb11643_shape_is_refused_and_kept_masked(
    store: Store, tmp_path: Path, bad: str
) -> None:
    path = write(tmp_path / "a.csv", HEADER + _row("N1", VALID) + _row("N2", bad))
    with pytest.raises(RejectedRowsError, match="row 2, field national_id: does not match"):
        ingest(store, path, "shop", _mapping())  # type: ignore[arg-type]
    assert store.scalar("SELECT count(*) FROM events") == 0
    ingest(store, path, "shop", _mapping(), max_reject_rate=0.6)  # type: ignore[arg-type]
    assert store.con.execute("SELECT field, raw_value FROM quarantine").fetchall() == [
        ("national_id", mask(bad))
    ]
    assert store.scalar("SELECT count(*) FROM events") == 1


def test_a_wrong_check_digit_loads(store: Store, tmp_path: Path) -> None:
    """A mistyped digit is still evidence for linkage; the exact rule (identity/rules.py)
    only trusts ids that pass ``is_valid_gb11643``."""
    path = write(tmp_path / "a.csv", HEADER + _row("N1", VALID) + _row("N2", WRONG_CHECK))
    report = ingest(store, path, "shop", _mapping())  # type: ignore[arg-type]
    assert (report.rows_new, report.rows_rejected) == (2, 0)
    assert is_valid_gb11643(VALID) and not is_valid_gb11643(WRONG_CHECK)
