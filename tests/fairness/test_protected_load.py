"""``load_protected`` stages its rows a batch at a time (decision 0993): whatever the file, it
refuses with the same message, or holds the same values, as a plain reading of the whole file
does, row by row (the test's own computation, the loader's before the change)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import credo.fairness.protected as protected
from credo.errors import InputError
from credo.fairness.protected import PROTECTED_TABLE, load_protected
from credo.settings import Settings
from credo.store.db import Store

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _expected(text: str, id_column: str) -> set[tuple[str, str, str]] | str:
    """Every (identifier, attribute, value) a plain reading of ``text`` gives, or the message
    it refuses the file with (header first, then row by row, as the checks are written)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = list(reader.fieldnames or [])
    if id_column not in header:
        return f"has no id column {id_column!r}"
    attributes = [c for c in header if c != id_column]
    if not attributes:
        return "has no protected attribute column"
    for name in attributes:
        if not re.match(r"^[a-z][a-z0-9_]{0,62}$", name):
            return f"column {name!r} is not an attribute name"
    seen: dict[str, int] = {}
    held = []
    for row_no, record in enumerate(reader, start=2):
        if None in record or any(v is None for v in record.values()):
            return f"row {row_no}: wrong number of fields"
        for field, value in record.items():
            if _CONTROL.search(value):
                return f"row {row_no}, field {field!r}: control character in value"
        key = record[id_column].strip()
        if not key:
            return f"row {row_no}, field {id_column!r}: blank id"
        if key in seen:
            return f"row {row_no}, field {id_column!r}: id also in row {seen[key]}"
        seen[key] = row_no
        held += [(key, name, record[name]) for name in attributes]
    return set(held) if held else "has no rows"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(protected, "_BATCH", 3)  # batches of 3 rows: every file spans several
    with Store.open(Settings(db=tmp_path / "credo.duckdb")) as s:
        yield s


def _held(store: Store) -> set[tuple[str, str, str]]:
    found = store.con.execute(f"SELECT id_hash, attribute, ciphertext FROM {PROTECTED_TABLE}")
    return {(h, a, store.keys.decrypt(f"protected:{a}", bytes(c))) for h, a, c in found.fetchall()}


_CELL = st.text(alphabet=["1", "2", "x", " ", "a", ",", '"', "\n", "\x01", "é"], max_size=4)


@st.composite
def _files(draw: st.DrawFn) -> str:
    """Small CSV files, mostly well formed, with the faults the loader names: a repeated or
    blank id, a wrong number of fields, a control character, a quoted newline."""
    names = draw(st.lists(st.sampled_from(["sex", "age_band", "Bad Name", "sex"]), max_size=3))
    width = 1 + len(names)
    ids = st.sampled_from(["1", "2", "3", "4", " 5 ", "", "6x", "7", "8"])
    body = draw(
        st.lists(
            st.one_of(
                st.tuples(
                    ids,
                    st.lists(
                        st.sampled_from(["f", "m", ""]), min_size=width - 1, max_size=width - 1
                    ),
                ),
                st.tuples(ids, st.lists(_CELL, max_size=width + 1)),
            ),
            max_size=12,
        )
    )
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(["national_id", *names])
    for key, values in body:
        writer.writerow([key, *values])
    return out.getvalue()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_files())
def test_a_load_refuses_or_holds_what_a_plain_reading_gives(
    store: Store, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8", newline="")
    expected = _expected(text, "national_id")
    store.con.execute(f"DELETE FROM {PROTECTED_TABLE}; DELETE FROM protected_loads")
    if isinstance(expected, str):
        with pytest.raises(InputError, match=re.escape(expected)):
            load_protected(store, path)
        assert store.scalar(f"SELECT count(*) FROM {PROTECTED_TABLE}") == 0
    else:
        loaded = load_protected(store, path)
        assert loaded.new and loaded.rows == len({k for k, _, _ in expected})
        hashed = {(store.keys.hash("national_id", k), a, v) for k, a, v in expected}
        assert _held(store) == hashed
    assert not store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[
        0
    ][0]  # the staging tables are gone, loaded or refused


def test_a_later_file_replaces_the_values_it_names_and_keeps_the_rest(store: Store) -> None:
    folder = store.path.parent
    (folder / "a.csv").write_text("national_id,sex,age_band\n1,f,18-24\n2,m,25-34\n3,f,65+\n")
    (folder / "b.csv").write_text("national_id,sex\n2,f\n4,m\n")
    load_protected(store, folder / "a.csv")
    second = load_protected(store, folder / "b.csv")
    h = {k: store.keys.hash("national_id", k) for k in "1234"}
    assert second.load_id == 2 and second.rows == 2
    assert _held(store) == {
        (h["1"], "sex", "f"), (h["1"], "age_band", "18-24"), (h["2"], "sex", "f"),
        (h["2"], "age_band", "25-34"), (h["3"], "sex", "f"), (h["3"], "age_band", "65+"),
        (h["4"], "sex", "m"),
    }  # fmt: skip


def test_a_file_that_is_not_utf8_is_refused_at_its_first_bad_byte(store: Store) -> None:
    path = store.path.parent / "p.csv"
    path.write_bytes(b"national_id,sex\n" + b"1,f\n" * 300_000 + b"2,\xff\n")  # past 1 MiB
    with pytest.raises(InputError, match=r"is not UTF-8 \(byte 1200018\)"):
        load_protected(store, path)
