"""Loading files: counts, idempotence, conflicts, quarantine, and every kind of bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_files import GOOD_ROWS, HEADER, PAYMENTS_MAPPING, payments_mapping, write
from support import snapshot

from credo.errors import (
    ConfigError,
    ConflictError,
    EncodingError,
    InputError,
    RejectedRowsError,
    SchemaMismatchError,
)
from credo.ingest.loader import ingest
from credo.ingest.mapping import parse_mapping
from credo.store.db import Store


def good_file(tmp_path: Path, name: str = "pay.csv") -> Path:
    return write(tmp_path / name, HEADER + "".join(GOOD_ROWS))


def test_loads_typed_events_with_units_maps_and_hashed_identifiers(
    store: Store, tmp_path: Path
) -> None:
    report = ingest(store, good_file(tmp_path), "shop", payments_mapping())
    assert (report.rows_read, report.rows_accepted, report.rows_new, report.rows_rejected) == (
        3,
        3,
        3,
        0,
    )
    rows = store.con.execute(
        "SELECT source_record_id, occurred_at, amount, merchant_category, phone_hash, name "
        "FROM events ORDER BY event_id"
    ).fetchall()
    assert rows[0][:4] == ("T1", dt.datetime(2026, 3, 1, 10, 0), Decimal("12.50"), "grocery")
    assert rows[2][2] == Decimal("1000.00")
    # The same number written two ways is one identity; the number itself is not stored.
    assert rows[0][4] == rows[2][4] == store.keys.hash("phone", "13800000001")
    assert rows[1][4] == store.keys.hash("phone", "13800000002")
    assert "13800000001" not in repr(store.con.execute("SELECT * FROM events").fetchall())
    blob = store.scalar("SELECT ciphertext FROM pii_vault WHERE hash = ?", [rows[1][4]])
    assert store.keys.decrypt("phone", blob) == "13800000002"
    # One vault row for a number on two rows; "+86 138-0000-0002" above was sealed normalised.
    sealed = store.con.execute(
        "SELECT ciphertext FROM pii_vault WHERE hash = ?", [rows[0][4]]
    ).fetchall()
    assert [store.keys.decrypt("phone", b) for (b,) in sealed] == ["13800000001"]
    assert rows[1][5] == "李娜"


def test_same_file_twice_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = good_file(tmp_path)
    first = ingest(store, path, "shop", payments_mapping())
    before = snapshot(store)
    again = ingest(store, path, "shop", payments_mapping())
    assert again.already_loaded_as == first.load_id
    assert again.rows_new == 0 and not again.stored
    assert snapshot(store) == before


def test_same_record_in_two_files_is_one_event(store: Store, tmp_path: Path) -> None:
    ingest(store, good_file(tmp_path, "a.csv"), "shop", payments_mapping())
    extra = "T4,04/03/2026 12:00,500,D,13900000004,王芳,\n"
    second = write(tmp_path / "b.csv", HEADER + GOOD_ROWS[1] + extra)
    report = ingest(store, second, "shop", payments_mapping())
    assert (report.rows_read, report.rows_new, report.rows_duplicate) == (2, 1, 1)
    assert store.scalar("SELECT count(*) FROM events") == 4
    assert store.scalar("SELECT count(DISTINCT source_record_id) FROM events") == 4


def test_same_record_id_with_other_values_is_a_conflict(store: Store, tmp_path: Path) -> None:
    ingest(store, good_file(tmp_path, "a.csv"), "shop", payments_mapping())
    before = snapshot(store)
    changed = GOOD_ROWS[0].replace("1250", "1300")
    with pytest.raises(ConflictError, match=r"row 1, field source_record_id: conflict: stored"):
        ingest(store, write(tmp_path / "b.csv", HEADER + changed), "shop", payments_mapping())
    assert snapshot(store) == before


def test_conflict_within_one_file(store: Store, tmp_path: Path) -> None:
    text = HEADER + GOOD_ROWS[0] + GOOD_ROWS[0].replace("1250", "1") + GOOD_ROWS[0]
    with pytest.raises(ConflictError, match="row 2, field source_record_id: conflict: row 1"):
        ingest(store, write(tmp_path / "a.csv", text), "shop", payments_mapping())
    report = ingest(
        store, write(tmp_path / "b.csv", HEADER + GOOD_ROWS[0] * 2), "shop", payments_mapping()
    )
    assert (report.rows_read, report.rows_new, report.rows_duplicate) == (2, 1, 1)


def test_rejected_rows_are_quarantined_when_allowed(store: Store, tmp_path: Path) -> None:
    bad = [
        "B1,31/02/2026 10:00,100,G,1,x,\n",  # impossible date
        "B2,01/03/2026 10:00,-5,G,1,x,\n",  # negative amount
        "B3,01/03/2026 10:00,12a,G,1,x,\n",  # not a number
        "B4,01/03/2026 10:00,100,Z,1,x,\n",  # unknown enum value
        "B5,01/03/2099 10:00,100,G,1,x,\n",  # future
        ",01/03/2026 10:00,100,G,1,x,\n",  # missing record id
        "B7,,100,G,1,x,\n",  # missing date
    ]
    path = write(tmp_path / "mixed.csv", HEADER + "".join(GOOD_ROWS) + "".join(bad))
    report = ingest(store, path, "shop", payments_mapping(), max_reject_rate=0.9)
    assert report.rows_read == 10
    assert report.rows_accepted + report.rows_rejected == report.rows_read
    assert (report.rows_new, report.rows_rejected) == (3, 7)
    got = store.con.execute(
        "SELECT row_no, field, reason, raw_value FROM quarantine ORDER BY row_no"
    ).fetchall()
    assert got == [
        (4, "occurred_at", "not a valid date in the format %d/%m/%Y %H:%M", "31/02/2026 10:00"),
        (5, "amount", "must be at least 0 (negative)", "-5"),
        (6, "amount", "not a number", "12a"),
        (
            7,
            "merchant_category",
            "not one of: "
            + ", ".join(
                [
                    "grocery",
                    "dining",
                    "transport",
                    "travel",
                    "utilities",
                    "education",
                    "healthcare",
                    "entertainment",
                    "luxury",
                    "online_shopping",
                    "charity",
                    "other",
                ]
            ),
            "Z",
        ),
        (8, "occurred_at", "date is in the future", "01/03/2099 10:00"),
        (9, "source_record_id", "missing (required for payment events)", None),
        (10, "occurred_at", "missing (required for payment events)", None),
    ]


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("B1,31/02/2026 10:00,100,G,1,x,\n", "occurred_at", "not a valid date"),
        ("B1,01/03/1850 10:00,100,G,1,x,\n", "occurred_at", "implausible date"),
        ("B1,01/03/2026 10:00,-1,G,1,x,\n", "amount", "negative"),
        ("B1,01/03/2026 10:00,abc,G,1,x,\n", "amount", "not a number"),
        ("B1,01/03/2026 10:00,100,Q,1,x,\n", "merchant_category", "not one of"),
        ("B1,01/03/2031 10:00,100,G,1,x,\n", "occurred_at", "in the future"),
    ],
)
def test_a_bad_row_rejects_the_file_by_default_and_changes_nothing(
    store: Store, tmp_path: Path, row: str, field: str, reason: str
) -> None:
    ingest(store, good_file(tmp_path, "first.csv"), "shop", payments_mapping())
    before = snapshot(store)
    path = write(tmp_path / "bad.csv", HEADER + GOOD_ROWS[0].replace("T1", "T9") + row)
    with pytest.raises(RejectedRowsError) as info:
        ingest(store, path, "shop", payments_mapping())
    message = str(info.value)
    assert "bad.csv" in message and "row 2" in message and field in message and reason in message
    assert "nothing was stored" in message
    assert snapshot(store) == before


CSV_BROKEN = {
    "ragged": (HEADER + GOOD_ROWS[0] + "T2,02/03/2026 11:30,99,D,1,x,,extra\n", "line 3"),
    "short": (HEADER + GOOD_ROWS[0] + "T2,02/03/2026 11:30\n", "line 3"),
    "quote": (HEADER + GOOD_ROWS[0] + 'T2,02/03/2026 11:30,99,D,1,"x,\n' + GOOD_ROWS[2], "quote"),
    "empty": ("", "empty"),
    "header only": (HEADER, "no data rows"),
    "missing column": (
        HEADER.replace(",note", "")
        and "txn,when,fen,cat,mobile,note\n" + "T1,01/03/2026 10:00,1,G,1,\n",
        "missing column(s) 'name'",
    ),
    "unknown column": (
        HEADER.strip() + ",extra\n" + GOOD_ROWS[0].strip() + ",1\n",
        "unknown column(s) 'extra'",
    ),
    "renamed column": (HEADER.replace("fen", "fenn") + GOOD_ROWS[0], "did you mean 'fenn'"),
    "repeated header": ("txn,txn,when,fen,cat,mobile,name,note\n", "repeats column"),
}


@pytest.mark.parametrize("case", sorted(CSV_BROKEN))
def test_malformed_csv_is_one_clear_error_and_changes_nothing(
    store: Store, tmp_path: Path, case: str
) -> None:
    ingest(store, good_file(tmp_path, "first.csv"), "shop", payments_mapping())
    before = snapshot(store)
    text, expected = CSV_BROKEN[case]
    path = write(tmp_path / "broken.csv", text)
    with pytest.raises(InputError) as info:
        ingest(store, path, "shop", payments_mapping())
    assert "broken.csv" in str(info.value)
    assert expected.lower() in str(info.value).lower()
    assert snapshot(store) == before


def test_gb18030_is_detected_and_loads(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "gb.csv", HEADER + "".join(GOOD_ROWS), encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    report = ingest(store, path, "shop", payments_mapping())
    assert (report.encoding, report.rows_new) == ("gb18030", 3)
    names = store.con.execute("SELECT name FROM events ORDER BY event_id").fetchall()
    assert [n for (n,) in names] == ["张伟", "李娜", "张伟"]


def test_declared_utf8_on_a_gb18030_file_is_refused(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "gb.csv", HEADER + "".join(GOOD_ROWS), encoding="gb18030")
    before = snapshot(store)
    with pytest.raises(EncodingError, match=r"gb\.csv: not valid UTF-8 at byte \d+"):
        ingest(store, path, "shop", payments_mapping(), encoding="utf-8")
    assert snapshot(store) == before
    report = ingest(store, path, "shop", payments_mapping(), encoding="gb18030")
    assert report.rows_new == 3


def test_undetectable_encoding_asks_for_one(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + GOOD_ROWS[0].replace("张伟", "Jos\xe9")).encode("latin-1"))
    with pytest.raises(EncodingError, match=r"not valid UTF-8 at byte \d+"):
        ingest(store, path, "shop", payments_mapping())


def _parquet(path: Path, **overrides: object) -> Path:
    data = {
        "txn": ["P1", "P2"],
        "when": ["01/03/2026 10:00", "02/03/2026 10:00"],
        "fen": [100, 250],
        "cat": ["G", "D"],
        "mobile": ["13800000001", None],
        "name": ["张伟", "李娜"],
        "note": [None, None],
    }
    data.update(overrides)  # type: ignore[arg-type]
    pq.write_table(pa.table(data), path)
    return path


def test_parquet_loads_with_native_types(store: Store, tmp_path: Path) -> None:
    mapping = payments_mapping(format="parquet")
    report = ingest(store, _parquet(tmp_path / "p.parquet"), "shop", mapping)
    assert report.rows_new == 2
    assert store.scalar("SELECT sum(amount) FROM events") == Decimal("3.50")


def test_truncated_parquet_is_refused(store: Store, tmp_path: Path) -> None:
    whole = _parquet(tmp_path / "p.parquet").read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole[: len(whole) // 2])
    before = snapshot(store)
    with pytest.raises(InputError, match=r"cut\.parquet: not a readable Parquet file"):
        ingest(store, cut, "shop", payments_mapping(format="parquet"))
    assert snapshot(store) == before


def test_jsonl_with_nested_and_typed_values(store: Store, tmp_path: Path) -> None:
    lines = [
        '{"txn": "J1", "when": "01/03/2026 10:00", "fen": 100, "cat": "G", "mobile": "1", '
        '"name": "A", "note": null}',
        '{"txn": "J2", "when": "01/03/2026 10:00", "fen": 1.5, "cat": "D", "mobile": "2", '
        '"name": "B", "note": {"x": 1}}',
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(lines) + "\n")
    report = ingest(store, path, "shop", payments_mapping(format="jsonl"))
    assert report.rows_new == 2
    assert store.scalar("SELECT sum(amount) FROM events") == Decimal("1.02")
    broken = write(tmp_path / "b.jsonl", lines[0] + "\n{not json\n")
    with pytest.raises(InputError, match=r"b\.jsonl: malformed JSON Lines"):
        ingest(store, broken, "shop", payments_mapping(format="jsonl"))


def test_a_mapping_for_another_source_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping is for source 'shop', not 'bank'"):
        ingest(store, good_file(tmp_path), "bank", payments_mapping())


def test_mapping_with_several_event_types_drops_fields_a_type_lacks(
    store: Store, tmp_path: Path
) -> None:
    mapping = parse_mapping(
        {
            "source": "lender",
            "event_type": {"column": "kind", "map": {"P": "payment", "L": "loan"}},
            "fields": {
                "source_record_id": {"column": "id"},
                "occurred_at": {"column": "at"},
                "amount": {"column": "amt"},
                "merchant_category": {"column": "cat"},
                "loan_event": {"column": "ev"},
                "account_id": {"column": "acct"},
            },
        },
        "inline",
    )
    text = "id,kind,at,amt,cat,ev,acct\n1,P,2026-01-01,5,grocery,,\n2,L,2026-01-02,900,,opened,A1\n"
    report = ingest(store, write(tmp_path / "m.csv", text), "lender", mapping)
    assert report.rows_new == 2
    rows = store.con.execute(
        "SELECT event_type, merchant_category, loan_event, account_id FROM events ORDER BY 1"
    ).fetchall()
    assert rows == [("loan", None, "opened", "A1"), ("payment", "grocery", None, None)]


def test_a_required_field_a_type_needs_is_missing(store: Store, tmp_path: Path) -> None:
    text = "id,kind,at,amt,cat,ev,acct\n2,L,2026-01-02,900,,opened,\n"
    mapping = parse_mapping(
        {
            "source": "lender",
            "event_type": {"column": "kind", "map": {"P": "payment", "L": "loan"}},
            "fields": {
                "source_record_id": {"column": "id"},
                "occurred_at": {"column": "at"},
                "amount": {"column": "amt"},
                "merchant_category": {"column": "cat"},
                "loan_event": {"column": "ev"},
                "account_id": {"column": "acct"},
            },
        },
        "inline",
    )
    with pytest.raises(RejectedRowsError, match="account_id: missing"):
        ingest(store, write(tmp_path / "m.csv", text), "lender", mapping)


def test_source_mapping_is_remembered(store: Store, tmp_path: Path) -> None:
    ingest(store, good_file(tmp_path, "a.csv"), "shop", payments_mapping())
    extra = write(tmp_path / "b.csv", HEADER + "T8,05/03/2026 12:00,500,D,1,x,\n")
    assert ingest(store, extra, "shop").rows_new == 1  # no mapping passed: the registered one
    assert PAYMENTS_MAPPING["source"] == "shop"


def test_csv_with_bom_crlf_and_multiline_values_loads(store: Store, tmp_path: Path) -> None:
    text = "\ufeff" + (HEADER + GOOD_ROWS[0]).replace("\n", "\r\n")
    text += 'T5,01/03/2026 10:00,1,G,1,"two\nlines",\r\n'
    report = ingest(store, write(tmp_path / "bom.csv", text), "shop", payments_mapping())
    assert (report.rows_read, report.rows_new) == (2, 2)
    assert store.scalar("SELECT name FROM events WHERE source_record_id = 'T5'") == "two\nlines"


def test_a_file_in_another_delimiter_is_named(store: Store, tmp_path: Path) -> None:
    text = (HEADER + GOOD_ROWS[0]).replace(",", ";")
    with pytest.raises(SchemaMismatchError, match="looks ';'-delimited"):
        ingest(store, write(tmp_path / "semi.csv", text), "shop", payments_mapping())


def test_json_array_and_non_object_lines_are_refused(store: Store, tmp_path: Path) -> None:
    obj = (
        '{"txn": "J1", "when": "01/03/2026 10:00", "fen": 1, "cat": "G", "mobile": "1", '
        '"name": "a", "note": null}'
    )
    with pytest.raises(InputError, match="one object per line, not one JSON array"):
        ingest(
            store,
            write(tmp_path / "a.jsonl", f"[{obj}]\n"),
            "shop",
            payments_mapping(format="jsonl"),
        )
    with pytest.raises(InputError, match=r"line 2: Expected OBJECT, but got ARRAY"):
        ingest(
            store,
            write(tmp_path / "b.jsonl", f"{obj}\n[1, 2]\n"),
            "shop",
            payments_mapping(format="jsonl"),
        )


def test_utf16_loads_when_declared(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "u16.csv", HEADER + GOOD_ROWS[0], encoding="utf-16")
    with pytest.raises(EncodingError, match="utf_16"):
        ingest(store, path, "shop", payments_mapping())
    assert ingest(store, path, "shop", payments_mapping(), encoding="utf-16").rows_new == 1
