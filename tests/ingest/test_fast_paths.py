"""The load's cheaper SQL (issue 21) gives exactly what the plain SQL gave, for any text."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import duckdb
import pyarrow as pa
from hypothesis import example, given
from hypothesis import strategies as st

from credo.ingest.events import FIELDS
from credo.ingest.loader import binary_column
from credo.ingest.mapping import ColumnRule, parse_mapping
from credo.ingest.reader import trimmed_sql
from credo.ingest.triage import repeated_in_file_sql
from credo.ingest.validate import (
    _CONTROL,
    _CONTROL_IN_TEXT,
    DEFAULT_FORMATS,
    OneRead,
    _bad,
    field_sql,
    stage_sql,
)
from credo.sql import ident, literal
from credo.store.rows import registered

# Unicode space separators (category Zs, what DuckDB's trim removes), other whitespace it keeps,
# control characters, ASCII letters and CJK text: the characters the fast paths decide on.
_EDGES = " ~\u00a0\u1680\u2000\u2003\u200a\u202f\u205f\u3000\t\n\r\x00\x1f\x7f\x80\x9f"
_TEXT = st.text(alphabet=st.sampled_from(_EDGES + "aZ0-é张"), max_size=8) | st.text(max_size=20)

_CON = duckdb.connect()


@example(values=["a ", " a", "a\u3000", "\u3000a", "张 ", " ", "", "a\t", None])
@given(values=st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=30))
def test_the_trim_fast_path_is_nullif_trim(values: list[str | None]) -> None:
    got = _CON.execute(
        f"SELECT list({trimmed_sql('v')} ORDER BY i), list(nullif(trim(v), '') ORDER BY i) "
        "FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i)",
        [values, values],
    ).fetchall()[0]
    assert got[0] == got[1]


_MAPPING = parse_mapping(
    {
        "source": "mixed",
        "format": "csv",
        "event_type": {"column": "type", "map": {"P": "payment", "B": "bill"}},
        "fields": {
            "source_record_id": {"column": "id"},
            "occurred_at": {"column": "when"},
            "amount": {"column": "amt"},
            "currency": {"column": "cur"},
            "merchant_category": {"column": "cat"},
            "bill_kind": {"column": "kind"},
            "due_date": {"column": "due"},
            "subject_ref": {"column": "ref"},
            "name": {"column": "name"},
            "phone": {"column": "phone"},
            "national_id": {"column": "nid"},
        },
    },
    "test mapping",
)
_COLUMNS = ["type", "id", "when", "amt", "cur", "cat", "kind", "due", "ref", "name", "phone", "nid"]
_SOME = {  # mostly valid, so that the text fields decide
    "type": ["P", "P", "B", "B", "loan", "x", None],
    "when": ["2026-01-02 10:00:00"] * 4 + ["2026-13-01", None],
    "amt": ["12.5"] * 4 + ["-1", "abc", None],
    "cur": ["CNY"] * 4 + ["cny", None],
    "cat": ["grocery"] * 4 + ["nope", None],
    "kind": ["rent"] * 4 + ["nope", None],
    "due": ["2026-01-02"] * 4 + ["someday", None],
    "nid": [None, None, "11010519491231002X", "1101"],
}
_ROW = st.fixed_dictionaries(
    {c: st.sampled_from(_SOME[c]) if c in _SOME else st.one_of(st.none(), _TEXT) for c in _COLUMNS}
)
_VALID = {c: v[0] for c, v in _SOME.items()} | {"id": "T1", "ref": "U1", "name": "A", "phone": "1"}


@example(rows=[_VALID, _VALID | {"ref": "a\x07"}, _VALID | {"name": "a\tb"}, _VALID | {"id": "\t"}])
@example(rows=[_VALID | {"id": "T\x1f1"}, _VALID | {"ref": "\x1f"}, _VALID | {"phone": "1\x1f"}])
@example(rows=[_VALID | {"id": "T\x1f", "ref": "\x1f"}, _VALID | {"name": "a\x1f\nb", "id": "\n"}])
@example(rows=[_VALID | {"phone": None, "name": "\t\r\n"}, _VALID | {"id": "\x1f\x1f"}])
@given(rows=st.lists(_ROW, min_size=1, max_size=20))
def test_a_row_is_flagged_bad_exactly_when_a_field_has_a_reason(rows: list[dict[str, str]]) -> None:
    """The staged pass flags bad rows with the control characters of both classes checked in
    one match over all the row's fields, the classes' groups joined by a separator that is
    itself refused; the reasons are still found field by field (``stage_sql``). Both must agree
    on every row, or a row with a reason would be stored."""
    plan = OneRead(_MAPPING, dict.fromkeys(_COLUMNS, "VARCHAR"), dt.datetime(2026, 12, 1))
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE src AS SELECT unnest(?) AS r, generate_subscripts(?, 1) AS __row_no",
        [[[row[c] for c in _COLUMNS] for row in rows]] * 2,
    )
    picks = ", ".join(f"r[{i}] AS {ident(c)}" for i, c in enumerate(_COLUMNS, start=1))
    source = f"(SELECT __row_no, {picks} FROM src)"
    reasons, names = stage_sql(_MAPPING, plan.types, plan.now_limit, source)
    any_reason = " OR ".join(f"{ident('e_' + n)} IS NOT NULL" for n in ["event_type", *names])
    got = con.execute(
        f"SELECT s.row_no, s.is_bad, ({any_reason}) FROM ({plan.staged(source)}) s "
        f"JOIN ({reasons}) e USING (row_no) ORDER BY s.row_no"
    ).fetchall()
    assert len(got) == len(rows)
    assert [r[1] for r in got] == [r[2] for r in got]


# Separators a wrong implementation might use, the refused characters of either class, and
# the three the text class allows: the combinations the one-match check must tell apart.
_MIXED = st.text(alphabet=st.sampled_from("a|,;\x1f\x1e\t\n\r\x00\x7f\x85\u00a0张"), max_size=6)


@example(ids=["a|\tb"], texts=["x"])
@example(ids=["a\x1fb"], texts=[None])
@example(ids=[None], texts=["\x1f"])
@example(ids=["a"], texts=["\t\n\r"])
@given(
    ids=st.lists(st.one_of(st.none(), _MIXED), min_size=1, max_size=3),
    texts=st.lists(st.one_of(st.none(), _MIXED), min_size=1, max_size=3),
)
def test_one_match_finds_a_refused_character_of_either_class(
    ids: list[str | None], texts: list[str | None]
) -> None:
    """The bad-row check of control characters (one full match over both classes' fields) is
    true exactly when some identifier holds a character of the identifier class or some other
    text one of the text class, as Python's regular expressions find it field by field."""
    names = [f"i{k}" for k in range(len(ids))] + [f"t{k}" for k in range(len(texts))]
    (check,) = _bad({}, {_CONTROL: names[: len(ids)], _CONTROL_IN_TEXT: names[len(ids) :]})
    columns = ", ".join(f"?::VARCHAR AS {n}" for n in names)
    got = _CON.execute(f"SELECT {check} FROM (SELECT {columns})", [*ids, *texts]).fetchone()
    want = any(v is not None and re.search(_CONTROL, v) for v in ids) or any(
        v is not None and re.search(_CONTROL_IN_TEXT, v) for v in texts
    )
    assert got is not None and got[0] == want


_IDS = st.lists(
    st.one_of(st.none(), st.sampled_from(["T1", "T2", "t1", "T1 ", "张", ""])), max_size=30
)


@example(ids=[])
@example(ids=[None, None])
@example(ids=["T1", "T2", "T1"])
@given(ids=_IDS | st.lists(st.one_of(st.none(), _TEXT), max_size=30))
def test_repeated_record_ids_are_found_with_or_without_the_fast_path(
    ids: list[str | None],
) -> None:
    """The in-file duplicate check skips its grouping when the ids' distinct hashes are as many
    as the ids; what it finds must be exactly the ids on more than one row."""
    con = duckdb.connect()
    con.execute("CREATE TABLE typed AS SELECT unnest(?::VARCHAR[]) AS v_source_record_id", [ids])
    found = con.execute(repeated_in_file_sql(con, "typed")).fetchall()
    # A NULL id (a bad row's) may be listed too: it matches no row after.
    got = sorted(r[0] for r in found if r[0] is not None)
    want = sorted({i for i in ids if i is not None and ids.count(i) > 1})
    assert got == want


_FORMATS = st.sampled_from(
    [*DEFAULT_FORMATS["date"], *DEFAULT_FORMATS["datetime"], "%d/%m/%Y", "%Y-%m-%d %H:%M:%S%z"]
)
_DATES = st.sampled_from(
    ["2026-01-02", "2026/01/02", "20260102", "02/01/2026", "2026-01-02 10:00:00",
     "2026-01-02T10:00:00", "2026-01-02 10:00:00.5", "2026-01-02T10:00:00Z",
     "2026-01-02 10:00", "2026-01-02 10:00:00+0800", "2026-02-30", ""]
) | _TEXT  # fmt: skip


@example(fmt="%Y-%m-%d", kind="date", values=["2026-01-02", "2026-02-30", "x"])
@example(fmt="%d/%m/%Y", kind="date", values=["02/01/2026", "2026-01-02"])
@example(fmt="%Y-%m-%d %H:%M:%S%z", kind="datetime", values=["2026-01-02 10:00:00+0800"])
@given(
    fmt=_FORMATS, kind=st.sampled_from(["date", "datetime"]), values=st.lists(_DATES, max_size=10)
)
def test_one_format_parses_as_the_list_of_it(fmt: str, kind: str, values: list[str]) -> None:
    """A field with one format is parsed with the format as text, not as a one-element list
    (cheaper): the same value, or NULL, for any text."""
    spec = FIELDS["occurred_at" if kind == "datetime" else "due_date"]
    rule = ColumnRule(column="c", format=fmt)
    parsed = field_sql(spec, rule, {"c": "VARCHAR"}, dt.datetime(2026, 12, 1), "v").value
    target = "DATE" if kind == "date" else "TIMESTAMP"
    assert "[" not in parsed
    got = _CON.execute(
        f"SELECT list({parsed} ORDER BY i), "
        f"list(CAST(try_strptime(v, [{literal(fmt)}]) AS {target}) ORDER BY i) "
        "FROM (SELECT unnest(?::VARCHAR[]) AS v, generate_subscripts(?::VARCHAR[], 1) AS i)",
        [values, values],
    ).fetchall()[0]
    assert got[0] == got[1]


@example(blobs=[])
@example(blobs=[b"", b"\x00", b"\xff" * 40])
@given(blobs=st.lists(st.binary(max_size=64), max_size=40))
def test_the_vault_batch_column_holds_each_ciphertext_as_given(blobs: list[bytes]) -> None:
    """The ciphertexts reach DuckDB through a column built from its buffers: each blob must
    arrive whole and in order."""
    column = binary_column(blobs)
    assert column.to_pylist() == blobs
    con = duckdb.connect()
    with registered(con, "batch", pa.table({"c": column})):
        got = con.execute("SELECT c FROM batch").fetchall()
    assert [bytes(r[0]) for r in got] == blobs


def test_a_load_imports_no_pandas() -> None:
    """Building the vault's batch must not import pandas (~0.35 CPU-s of every load)."""
    code = (
        "import sys; from credo.ingest.loader import binary_column; binary_column([b'a']); "
        "assert 'pandas' not in sys.modules, 'pandas imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
