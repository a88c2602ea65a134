"""The event tables' identifier hashes as UHUGEINT (migration 18, decision 0985): the ``events``
view gives back exactly the 32 lowercase hexadecimal characters, and a bad hash is refused."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from credo.settings import Settings
from credo.store import db as store_db
from credo.store.db import Store
from credo.store.rows import insert
from credo.store.schema import (
    EVENT_HASH_COLUMNS,
    EVENT_TABLES,
    hash_number,
    hash_number_sql,
    hash_text_sql,
    hashes_as_numbers_sql,
    hashes_as_text_sql,
    stored_hashes,
    table_hash_columns,
)

# 128-bit values, with many small ones: a hash whose hex starts with zeros must keep them
HASHES = st.one_of(
    st.integers(0, 2**128 - 1),
    st.integers(0, 127).flatmap(lambda bits: st.integers(0, 2**bits - 1)),
).map(lambda n: f"{n:032x}")


def _event(event_id: int, **hashes: str | None) -> dict[str, object]:
    """An event's row as its table stores it; before migration 17 a table also stored the
    type (``_old``)."""
    return {
        "event_id": event_id, "source": "s", "load_id": 1,
        "row_no": event_id, "recorded_at": dt.datetime(2026, 1, 2),
        "source_record_id": f"r{event_id}", "occurred_at": dt.datetime(2026, 1, 1), **hashes,
    }  # fmt: skip


@hsettings(max_examples=200, deadline=None)
@given(st.lists(HASHES, min_size=1, max_size=20))
def test_the_engine_turns_a_hash_into_its_number_and_back(texts: list[str]) -> None:
    """SQL both ways, and Python's ``hash_number``, agree with ``int(text, 16)``."""
    con = duckdb.connect()
    got = con.execute(
        f"SELECT n, {hash_text_sql('n')} FROM (SELECT {hash_number_sql('h')} AS n"
        " FROM (SELECT unnest(?::VARCHAR[]) AS h))",
        [texts],
    ).fetchall()
    assert [(int(n), t) for n, t in got] == [(int(t, 16), t) for t in texts]
    assert [hash_number(t) for t in texts] == [int(t, 16) for t in texts]


def test_the_events_view_gives_back_every_hash_as_written(settings: Settings) -> None:
    """Through the store: every hash column of every event type, written as the loader and
    the fixtures write them, read back through ``events`` as the same text; NULL stays NULL."""
    with Store.open(settings) as store:

        @given(st.lists(HASHES, min_size=4, max_size=4), st.sampled_from(sorted(EVENT_TABLES)))
        @hsettings(max_examples=60, deadline=None)
        def check(texts: list[str], event_type: str) -> None:
            table = EVENT_TABLES[event_type]
            for each in EVENT_TABLES.values():
                store.con.execute(f"DELETE FROM {each}")
            columns = table_hash_columns(table)
            hashes = dict(zip(columns, texts, strict=False))
            insert(store.con, table, stored_hashes(_event(1, **hashes)))
            insert(store.con, table, stored_hashes(_event(2)))
            cols = ", ".join(EVENT_HASH_COLUMNS)
            got = store.con.execute(f"SELECT {cols} FROM events ORDER BY event_id").fetchall()
            assert got == [tuple(hashes.get(c) for c in EVENT_HASH_COLUMNS), (None,) * 4]
            typed = store.con.execute(f"SELECT typeof({columns[0]}) FROM {table}").fetchall()
            assert typed == [("UHUGEINT",)] * 2
            # out through Arrow as text, and in again: the same rows
            held = store.con.sql(f"SELECT * {hashes_as_text_sql(table)} FROM {table}")
            arrow = held.to_arrow_table()
            before = store.con.execute(f"SELECT * FROM {table} ORDER BY event_id").fetchall()
            store.con.execute(f"DELETE FROM {table}")
            store.con.register("held_rows", arrow)
            store.con.execute(
                f"INSERT INTO {table} SELECT * {hashes_as_numbers_sql(table)} FROM held_rows"
            )
            store.con.unregister("held_rows")
            after = store.con.execute(f"SELECT * FROM {table} ORDER BY event_id").fetchall()
            assert after == before

        check()


@pytest.mark.parametrize(
    "bad", ["nid-zhang", "ABCDEF0123456789ABCDEF0123456789", "0" * 31, "0" * 33, " " + "0" * 31]
)
def test_a_bad_hash_is_refused_with_its_value(bad: str) -> None:
    """Not 32 lowercase hexadecimal characters: an error naming the value, in Python and in
    SQL (a plain cast would take uppercase, or a text of digits as a decimal number)."""
    with pytest.raises(ValueError, match="not an identifier hash"):
        hash_number(bad)
    with pytest.raises(duckdb.InvalidInputException, match="not an identifier hash.*" + bad[-8:]):
        duckdb.connect().execute(
            f"SELECT {hash_number_sql('h')} FROM (SELECT ?::VARCHAR AS h)", [bad]
        ).fetchall()


def _old(event_type: str, row: dict[str, object]) -> dict[str, object]:
    return {"event_type": event_type, **row}


def test_migration_18_converts_stored_hashes(settings: Settings) -> None:
    """Events stored as text before migration 18 read the same through ``events`` after it;
    the tables then hold the numbers."""
    texts = [f"{n:032x}" for n in (0, 1, 2**64, 2**128 - 1, 0xDEADBEEF << 80)]
    con = duckdb.connect(str(settings.db))
    store_db._migrate(con, settings.db, upto=16)
    for i, t in enumerate(texts):
        insert(con, "events_payment", _old("payment", _event(i + 1, phone_hash=t)))
    connection = _old(
        "connection",
        _event(
            9, national_id_hash=texts[1], counterpart_national_id_hash=texts[0],
            counterpart_phone_hash=texts[3],
        ),
    )  # fmt: skip
    insert(con, "events_connection", connection)
    before = con.execute("SELECT * FROM events ORDER BY event_id").fetchall()
    con.close()
    with Store.open(settings) as store:
        after = store.con.execute("SELECT * FROM events ORDER BY event_id").fetchall()
        assert after == before
        numbers = store.con.execute("SELECT phone_hash FROM events_payment ORDER BY 1").fetchall()
        assert [int(n) for (n,) in numbers] == sorted(int(t, 16) for t in texts)


def test_migration_18_refuses_a_hash_it_could_not_give_back(settings: Settings) -> None:
    """A stored value that is not an identifier hash stops the migration, naming where it is;
    the database is left at its version."""
    con = duckdb.connect(str(settings.db))
    store_db._migrate(con, settings.db, upto=16)
    insert(con, "events_loan", _old("loan", _event(1, national_id_hash="test-nid")))
    with pytest.raises(
        duckdb.InvalidInputException, match=r"events_loan\.national_id_hash holds test-nid"
    ):
        store_db._migrate(con, settings.db)
    version = con.execute("SELECT max(version) FROM schema_migrations").fetchall()
    assert version == [(16,)]
    assert con.execute("SELECT national_id_hash FROM events_loan").fetchall() == [("test-nid",)]
    con.close()
