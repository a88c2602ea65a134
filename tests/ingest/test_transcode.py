"""A non-UTF-8 file's transcoded copy: zstd-compressed, gone once staged, and bad bytes
named exactly (decision 0988)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_files import GOOD_ROWS, HEADER, payments_mapping, write
from support import snapshot

from credo.errors import EncodingError
from credo.ingest import loader, reader
from credo.ingest.loader import ingest, stage_in_file
from credo.settings import Settings
from credo.store.db import Store

_CHUNK = 1 << 20
STAGE_DEFAULT = loader.STAGE_IN_FILE_SHARE


def _rows(n: int) -> str:
    """``n`` payment rows with Chinese names: GB18030 takes two bytes a character, UTF-8 three."""
    return "".join(
        f"T{i},01/03/2026 10:00,{100 + i % 977},G,1380000{i % 9973:04d},张伟{'李娜王芳'[i % 4]},\n"
        for i in range(n)
    )


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder ``tempfile`` makes its folders in, for this test alone."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _inflated(path: Path) -> bytes:
    return bytes(pa.input_stream(str(path), compression="zstd").read())


def test_the_copy_is_compressed_utf8(tmp_path: Path) -> None:
    text = HEADER + _rows(20_000)
    src = write(tmp_path / "gb.csv", text, encoding="gb18030")
    out = tmp_path / "copy.zst"
    reader._transcode(src, "gb18030", out)
    assert _inflated(out) == text.encode("utf-8")
    # A fifth of the plain UTF-8 or less (about a tenth here; at 1M persons the plain copy
    # was 16 GB).
    assert out.stat().st_size < len(text.encode("utf-8")) / 5


def test_a_load_leaves_no_copy_while_it_validates_and_stores(
    store: Store, tmp_path: Path, scratch: Path
) -> None:
    src = write(tmp_path / "gb.csv", HEADER + _rows(5_000), encoding="gb18030")
    seen: dict[str, list[Path]] = {}

    def step(name: str) -> None:
        seen[name] = list(scratch.iterdir())

    report = ingest(store, src, "shop", payments_mapping(), progress=step)
    assert (report.encoding, report.rows_new) == ("gb18030", 5_000)
    assert {"validating", "storing"} <= set(seen)
    assert all(found == [] for found in seen.values())
    assert list(scratch.iterdir()) == []


def _late_bad_file(tmp_path: Path, bad_at: int) -> tuple[Path, int]:
    """A GB18030 CSV of over 2 MiB whose only bad sequence starts at byte ``bad_at``: a lead
    byte 0xD6 then 0xFF (no GB18030 trail byte). Returns the path and the offset Python's
    whole-file decode names."""
    head = (HEADER + _rows(60_000)).encode("gb18030")
    assert len(head) > bad_at + 10
    # Cut at a line end before bad_at and pad with ASCII to reach it exactly.
    line_end = head.rindex(b"\n", 0, bad_at - 60) + 1
    pad = bad_at - line_end - len(b"X1,01/03/2026 10:00,1,G,1,")
    body = head[:line_end] + b"X1,01/03/2026 10:00,1,G,1," + b"a" * pad + b"\xd6\xff,\n"
    body += head[line_end:]
    path = tmp_path / "late.csv"
    path.write_bytes(body)
    with pytest.raises(UnicodeDecodeError) as whole:
        body.decode("gb18030")
    assert whole.value.start == bad_at
    return path, bad_at


@pytest.mark.parametrize(
    "bad_at",
    [
        2 * _CHUNK + 12_345,  # inside a chunk, well past the first
        2 * _CHUNK - 1,  # the lead byte ends one chunk, its bad trail byte starts the next
    ],
)
@pytest.mark.parametrize("declared", [None, "gb18030"])
def test_a_bad_byte_late_in_the_file_is_named_exactly(
    store: Store, tmp_path: Path, scratch: Path, bad_at: int, declared: str | None
) -> None:
    path, at = _late_bad_file(tmp_path, bad_at)
    before = snapshot(store)
    with pytest.raises(EncodingError, match=rf"late\.csv: byte {at} is not valid gb18030 \("):
        ingest(store, path, "shop", payments_mapping(), encoding=declared)
    assert snapshot(store) == before
    assert list(scratch.iterdir()) == []


def test_a_file_ending_inside_a_character_names_its_last_byte(store: Store, tmp_path: Path) -> None:
    body = (HEADER + "".join(GOOD_ROWS)).encode("gb18030") + b"\xd6"
    path = tmp_path / "cut.csv"
    path.write_bytes(body)
    at = len(body) - 1
    with pytest.raises(EncodingError, match=rf"cut\.csv: byte {at} is not valid gb18030 \("):
        ingest(store, path, "shop", payments_mapping(), encoding="gb18030")


def test_a_bad_utf8_sequence_across_chunks_is_named_where_it_starts(tmp_path: Path) -> None:
    body = b"a" * (_CHUNK - 1) + "中".encode()[:1] + b"zz\n"
    path = tmp_path / "u.csv"
    path.write_bytes(body)
    assert reader._first_bad_utf8(path) == _CHUNK - 1


_TEXT = st.text(
    alphabet=st.sampled_from("ab,\n 0张伟李娜王芳€é\u3000😀"), max_size=60
)  # one to four GB18030 bytes a character


@settings(max_examples=60, deadline=None)
@given(
    text=_TEXT,
    junk=st.sampled_from([b"\xff", b"\xd6\xff", b"\x81\x30\x81", b"\xd6"]),
    where=st.integers(min_value=0, max_value=60),
    chunk=st.integers(min_value=1, max_value=9),
)
def test_transcode_round_trips_and_names_the_bad_byte_whatever_the_chunks(
    tmp_path_factory: pytest.TempPathFactory, text: str, junk: bytes, where: int, chunk: int
) -> None:
    """At any chunk size the copy inflates to the text's UTF-8, and a bad sequence is named
    at the byte a whole-file decode names."""
    folder = tmp_path_factory.mktemp("t")
    good = text.encode("gb18030")
    cut = len(text[: min(where, len(text))].encode("gb18030"))
    bad = good[:cut] + junk + good[cut:]
    old = reader._CHUNK
    reader._CHUNK = chunk
    try:
        src = folder / "good.csv"
        src.write_bytes(good)
        reader._transcode(src, "gb18030", folder / "good.zst")
        assert _inflated(folder / "good.zst") == text.encode("utf-8")
        try:
            bad.decode("gb18030")
        except UnicodeDecodeError as exc:
            expected = exc.start
        else:
            return  # the junk made a valid character with its neighbours
        src.write_bytes(bad)
        with pytest.raises(EncodingError, match=rf": byte {expected} is not valid gb18030 \("):
            reader._transcode(src, "gb18030", folder / "bad.zst")
    finally:
        reader._CHUNK = old


def test_gb18030_json_lines_load_through_the_copy(store: Store, tmp_path: Path) -> None:
    lines = [
        f'{{"txn": "J{i}", "when": "01/03/2026 10:00", "fen": {100 + i}, "cat": "G", '
        f'"mobile": "1380000000{i}", "name": "张伟{i}", "note": null}}\n'
        for i in range(3)
    ]
    path = write(tmp_path / "gb.jsonl", "".join(lines), encoding="gb18030")
    report = ingest(store, path, "shop", payments_mapping(format="jsonl"), encoding="gb18030")
    assert (report.encoding, report.rows_new) == ("gb18030", 3)
    names = store.con.execute("SELECT name FROM events ORDER BY row_no").fetchall()
    assert [n for (n,) in names] == ["张伟0", "张伟1", "张伟2"]


def test_rows_are_staged_in_a_file_beside_the_store_removed_after(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file's staged rows are a table of ``<db>.staging`` (compressed), not a temp
    table (spilled uncompressed); a leftover of a killed load is replaced, and the file is gone
    after. Every file counts as large here."""
    monkeypatch.setattr(loader, "STAGE_IN_FILE_SHARE", 0.0)
    staging = Path(f"{store.settings.db}.staging")
    staging.write_bytes(b"left by a killed load")
    src = write(tmp_path / "gb.csv", HEADER + _rows(2_000), encoding="gb18030")
    seen: dict[str, object] = {}

    def step(name: str) -> None:
        if name == "validating":
            seen["file"] = staging.is_file()
            seen["tables"] = store.con.execute(
                "SELECT database_name, table_name, temporary FROM duckdb_tables() "
                "WHERE table_name = 'staged'"
            ).fetchall()

    report = ingest(store, src, "shop", payments_mapping(), progress=step)
    assert report.rows_new == 2_000
    assert seen == {"file": True, "tables": [("credo_staging", "staged", False)]}
    assert not staging.exists() and not Path(f"{staging}.wal").exists()
    assert store.scalar("SELECT count(*) FROM duckdb_databases() WHERE NOT internal") == 1


def test_a_file_small_beside_the_memory_limit_stays_in_a_temp_table(
    store: Store, tmp_path: Path
) -> None:
    """A file that fits stays in a temp table: the staging file cost 40% more wall time on
    the 10M-row benchmark, where nothing spilled (decision 0988)."""
    src = write(tmp_path / "gb.csv", HEADER + _rows(2_000), encoding="gb18030")
    seen: dict[str, object] = {}

    def step(name: str) -> None:
        if name == "validating":
            seen["file"] = Path(f"{store.settings.db}.staging").exists()
            seen["tables"] = store.con.execute(
                "SELECT database_name, table_name, temporary FROM duckdb_tables() "
                "WHERE table_name = 'staged'"
            ).fetchall()

    assert ingest(store, src, "shop", payments_mapping(), progress=step).rows_new == 2_000
    assert seen == {"file": False, "tables": [("temp", "staged", True)]}


def test_which_files_are_staged_in_a_file(tmp_path: Path) -> None:
    """Sizes from the runs (sparse files, no disk used): under the default 3 GB limit (DuckDB:
    2.7 GiB) the benchmark's CSV and Parquet stay in memory; a million persons' payments
    (gzipped) and plain CSV of twice the size go to a file; the limit moves the line."""
    limit = int(2.7 * 2**30)

    def sized(name: str, size: int) -> Path:
        path = tmp_path / name
        with path.open("wb") as fh:
            fh.truncate(size)
        return path

    assert not stage_in_file(sized("payments.csv", 852_992_447), "csv", limit)
    assert not stage_in_file(sized("payments.parquet", 290_966_154), "parquet", limit)
    assert stage_in_file(sized("payments.csv.gz", 3_100_000_000), "csv", limit)
    assert stage_in_file(sized("big.csv", 1_800_000_000), "csv", limit)
    assert stage_in_file(sized("payments.csv", 852_992_447), "csv", 2**30)


@settings(max_examples=6, deadline=None)
@given(
    picks=st.lists(st.sampled_from([*GOOD_ROWS, "T9,not a date,5,G,13800000009,王芳,\n"]),
                   min_size=1, max_size=8),
)  # fmt: skip
def test_a_file_staged_in_a_file_loads_as_from_a_temp_table(picks: list[str]) -> None:
    """The same rows, rejects and report, whichever way the rows are staged: two stores under
    one secret, one staging in memory and one in a file."""
    text = HEADER + "".join(f"{r.split(',', 1)[0]}{k},{r.split(',', 1)[1]}" for k, r in
                            enumerate(picks))  # fmt: skip
    secret = "ab" * 32
    loaded = []
    with tempfile.TemporaryDirectory() as tmp:
        for share in (STAGE_DEFAULT, 0.0):
            folder = Path(tmp) / str(share)
            folder.mkdir()
            src = write(folder / "pay.csv", text, encoding="gb18030")
            loader.STAGE_IN_FILE_SHARE = share
            try:
                with Store.open(Settings(db=folder / "c.duckdb", secret_key=secret)) as st_:
                    try:
                        report = ingest(st_, src, "shop", payments_mapping(),
                                        max_reject_rate=1.0)  # fmt: skip
                        outcome: object = (report.rows_new, report.rows_rejected)
                    except Exception as exc:  # the same refusal either way
                        outcome = str(exc).replace(str(folder), "")
                    loaded.append((outcome, _content(st_)))
            finally:
                loader.STAGE_IN_FILE_SHARE = STAGE_DEFAULT
    (first, store_a), (second, store_b) = loaded
    assert first == second
    assert store_a == store_b


def _content(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows but the times, ciphertexts (random nonces), paths and the audit
    chain (which holds the times)."""
    found = {}
    for (table,) in store.con.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE NOT internal "
        "AND table_name NOT IN ('audit_log', 'meta') AND database_name = current_database()"
    ).fetchall():
        cols = [
            c
            for c, t in store.con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                "AND database_name = current_database()",
                [table],
            ).fetchall()
            if not t.startswith(("TIMESTAMP", "BLOB")) and "path" not in c
        ]
        if cols:
            select = ", ".join(f'"{c}"' for c in cols)
            found[table] = sorted(
                store.con.execute(f'SELECT {select} FROM "{table}"').fetchall(), key=repr
            )
    return found
