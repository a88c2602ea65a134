"""A CSV proven plain from its bytes (``PlainScan``) skips the trim and the control-character
check, and loads exactly as the full path loads it (docs/decisions/0124)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ingest_files import payments_mapping, write

from credo.errors import RejectedRowsError
from credo.ingest import loader
from credo.ingest.loader import LoadReport, ingest
from credo.ingest.mapping import Mapping
from credo.ingest.plain import PlainScan
from credo.ingest.validate import _CONTROL
from credo.settings import Settings
from credo.store.db import Store

# What DuckDB's trim removes (Unicode category Zs, checked against DuckDB in
# ``test_trim_removes_exactly_these``), and characters either check decides on.
_ZS = " \u00a0\u1680\u2000\u2001\u2005\u200a\u202f\u205f\u3000"
_HARD = _ZS + '\t\r\n\x00\x1f\x7f\x80\x85\x9f"\u2028\u200b\ufeff'
_ALPHABET = st.sampled_from(_HARD + ",;|aZ0-.:张伟“”、。é")


def _fields(text: str, delimiter: str) -> list[str]:
    return [f for line in text.split("\n") for f in line.split(delimiter)]


def _scan(data: bytes, cuts: list[int], delimiter: str = ",") -> bool:
    scan = PlainScan(delimiter, '"')
    edges = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    for a, b in itertools.pairwise(edges):
        scan.feed(data[a:b])
    return scan.plain


@example(text="T1,2024-01-01 00:00:00,张伟\nT2,,x y\n", delimiter=",", cuts=[1, 2])
@example(text="a, b\n", delimiter=",", cuts=[1, 2])
@example(text="a ,b\n", delimiter=",", cuts=[1, 2])
@example(text="a\n b\n", delimiter=",", cuts=[1, 2])
@example(text="a,b \n", delimiter=",", cuts=[1, 2])
@example(text="a,b ", delimiter=",", cuts=[1, 2])
@example(text=" a,b", delimiter=",", cuts=[1, 2])
@example(text="a,b\u3000c\n", delimiter=",", cuts=[1, 2])
@example(text="a\tb\n", delimiter=";", cuts=[1, 2])
@example(text="a\tb\n", delimiter="\t", cuts=[1, 2])
@example(text="a\x85b\n", delimiter=",", cuts=[1, 2])
@example(text='a,"b"\n', delimiter=",", cuts=[1, 2])
@example(text="a\r\nb\r\n", delimiter=",", cuts=[1, 2])
@given(
    text=st.text(alphabet=_ALPHABET, max_size=40),
    delimiter=st.sampled_from([",", ";", "|", "\t"]),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_plain_means_no_field_to_trim_and_no_control_character(
    text: str, delimiter: str, cuts: list[int]
) -> None:
    """Sound: a text found plain has no quote, no carriage return, and every field between
    delimiters and line feeds is its own trim and free of any control character. And the
    chunking of the bytes never changes the answer (a fault may straddle two chunks)."""
    data = text.encode()
    assert _scan(data, cuts, delimiter) == _scan(data, [], delimiter)
    assert _scan(data, list(range(len(data))), delimiter) == _scan(data, [], delimiter)
    if _scan(data, [], delimiter):
        assert '"' not in text and "\r" not in text
        for field in _fields(text, delimiter):
            assert field == field.strip(_ZS), field
            assert not re.search(_CONTROL, field), field


def test_the_benchmark_rows_are_plain_and_faults_are_found_in_any_chunk() -> None:
    row = "T0000000001,2024-01-01 02:11:59,104829,CNY,dining,in_store,U1,14000000007,王芳\n"
    data = ("txn_id,txn_time,amount_fen,currency,category,channel,user_id,mobile,user_name\n"
            + row * 5000).encode()  # fmt: skip
    assert _scan(data, list(range(0, len(data), 4096)))
    for fault in (b", ", b" ,", b"\n ", b"\x01", b"\xc2\x85", b"\xe3\x80\x80", b'"'):
        for at in (0, 1, len(data) // 2, len(data) - 2):
            broken = data[:at] + fault + data[at:]
            assert not _scan(broken, [at, at + 1, at + 2]), (fault, at)
            assert not _scan(broken, []), (fault, at)


def test_trim_removes_exactly_these() -> None:
    """The scan's list of what DuckDB trims: the characters ``trim`` removes from either end."""
    con = duckdb.connect()
    found = con.execute(
        "SELECT list(i ORDER BY i) FROM range(1, 1114112) t(i) "
        "WHERE (i < 55296 OR i > 57343) AND trim(chr(i::INTEGER) || 'a') = 'a'"
    ).fetchall()[0][0]
    assert found == [
        0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000
    ]  # fmt: skip


def test_duckdb_reads_an_empty_field_as_null(tmp_path: Path) -> None:
    """The plain path takes a CSV's fields as read, without ``nullif(trim(v), '')``: it relies
    on DuckDB's reader giving an empty field as NULL, never ''."""
    path = write(tmp_path / "e.csv", "a,b,c\n,x,\n,,\n")
    got = (
        duckdb.connect()
        .execute(
            f"SELECT * FROM read_csv('{path}', header=true, auto_detect=false, "
            "columns={'a': 'VARCHAR', 'b': 'VARCHAR', 'c': 'VARCHAR'}, delim=',', quote='\"', "
            "escape='\"', strict_mode=true, encoding='utf-8')"
        )
        .fetchall()
    )
    assert got == [(None, "x", None), (None, None, None)]


class _NeverPlain(PlainScan):
    @property
    def plain(self) -> bool:
        return False


_KEY = "ab" * 32
_HEADER = "txn,when,fen,cat,mobile,name,note\n"


def _load(tmp_path: Path, name: str, path: Path, mapping: Mapping) -> tuple[Any, ...]:
    """A load into a fresh store (the same key for every one): its report or refusal, and
    every stored row a load writes, but for the clock columns."""
    with Store.open(Settings(db=tmp_path / f"{name}.duckdb", secret_key=_KEY)) as store:
        try:
            report: LoadReport | str = ingest(store, path, "shop", mapping, max_reject_rate=1.0)
        except RejectedRowsError as exc:
            report = str(exc)
        con = store.con
        events = con.execute(
            "SELECT * EXCLUDE (recorded_at) FROM events ORDER BY event_id"
        ).fetchall()
        quarantine = con.execute("SELECT * FROM quarantine ORDER BY ALL").fetchall()
        vault = con.execute("SELECT kind, hash FROM pii_vault ORDER BY ALL").fetchall()
        loads = con.execute(
            "SELECT * EXCLUDE (started_at, finished_at, file_path) FROM loads"
        ).fetchall()
    return report, events, quarantine, vault, loads


_CELL = st.text(alphabet=st.sampled_from("aZ09 -.:+/张伟" + "\u00a0\x01\t"), max_size=6)
_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["T1", "T2", "T3", "", "T 4", "T1"]),
        st.sampled_from(["01/03/2026 10:00", "31/02/2026 10:00", "", "x"]),
        st.sampled_from(["1250", "-1", "1000.5", "", "abc"]),
        st.sampled_from(["G", "D", "X", ""]),
        st.sampled_from(["13800000001", "+86 138-0000-0002", "", "138 0000 0003"]),
        _CELL,
        _CELL,
    ),
    min_size=1,
    max_size=8,
)


@example(rows=[("T1", "01/03/2026 10:00", "1250", "G", "13800000001", "张 伟", "")])
@example(rows=[("T1", "01/03/2026 10:00", "1250", "G", "13800000001", "a\x01", "")])
@example(rows=[("", "", "", "", "", "", "")])
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS)
def test_a_plain_file_loads_as_the_full_path_loads_it(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]]
) -> None:
    """Whatever the rows (bad dates, amounts, categories, missing ids, conflicts; plain or
    not), the load with the scan stores what the load without it stores: the same events,
    hashes, quarantine, vault and load row, and the same report or refusal."""
    tmp_path = tmp_path_factory.mktemp("plain")
    path = write(tmp_path / "pay.csv", _HEADER + "".join(",".join(r) + "\n" for r in rows))
    fast = _load(tmp_path, "fast", path, payments_mapping())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "PlainScan", _NeverPlain)
        full = _load(tmp_path, "full", path, payments_mapping())
    assert fast == full


def test_a_plain_file_takes_the_plain_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file of the test above with plain rows is proven plain, and staged without trim
    or control-character check (what makes it cheaper); one with a quote is not."""
    staged: list[str] = []
    real = loader.OneRead.staged

    def spy(self: loader.OneRead, source: str) -> str:
        staged.append(real(self, source))
        return staged[-1]

    monkeypatch.setattr(loader.OneRead, "staged", spy)
    plain = write(tmp_path / "p.csv", _HEADER + "T1,01/03/2026 10:00,1250,G,138 1,张 伟,\n")
    quoted = write(tmp_path / "q.csv", _HEADER + 'T1,01/03/2026 10:00,1250,G,138 1,"张 伟",\n')
    for path in (plain, quoted):
        with Store.open(Settings(db=tmp_path / f"{path.stem}.duckdb", secret_key=_KEY)) as s:
            assert ingest(s, path, "shop", payments_mapping()).rows_new == 1
    assert "trim(" not in staged[0] and "regexp_full_match(concat(" not in staged[0]
    assert "trim(" in staged[1] and "regexp_full_match(concat(" in staged[1]


def test_a_control_character_from_the_mapping_is_still_found(tmp_path: Path) -> None:
    """A plain file's text holds no control character, but a mapping's separator may: the
    field joined with it is still checked, and its rows rejected as on the full path."""
    mapping = payments_mapping(
        fields={
            "source_record_id": {"columns": ["txn", "note"], "separator": "\x01"},
            "occurred_at": {"column": "when", "format": "%d/%m/%Y %H:%M"},
            "amount": {"column": "fen", "scale": 0.01},
            "phone": {"column": "mobile"},
        },
        ignore=["cat", "name"],
    )
    path = write(tmp_path / "pay.csv", _HEADER + "T1,01/03/2026 10:00,1250,G,138,张伟,n\n")
    assert _scan(path.read_bytes(), [])
    fast = _load(tmp_path, "fast", path, mapping)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "PlainScan", _NeverPlain)
        full = _load(tmp_path, "full", path, mapping)
    assert fast == full
    assert "contains a control character" in str(fast[0])
