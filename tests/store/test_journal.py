"""The decision journal: durable before the database has it, replayed once after a crash.

A "crash" here closes the database without applying the journal, as a killed server leaves it;
``tests/api/test_crash.py`` kills a real server with SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from credo.errors import StoreError
from credo.settings import Settings
from credo.store.applier import JournalApplier
from credo.store.audit import AuditEntry, verify
from credo.store.db import Store
from credo.store.journal import Journal, encode, journal_path

AT = dt.datetime(2026, 11, 27, 9, 30, 0, 123456)


def _open(settings: Settings) -> Store:
    store = Store.open(settings)
    if not store.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'items'"):
        with store.write(AuditEntry("tester", "test.schema")) as con:
            con.execute("CREATE TABLE items (id VARCHAR PRIMARY KEY, made TIMESTAMP, v DOUBLE)")
    return store


def _journal(store: Store, first: int, n: int) -> None:
    """One journaled batch: ``n`` items, one audit entry each."""
    ids = range(first, first + n)
    store.write_journaled(
        [AuditEntry("tester", "test.item", f"item:{i}", "testing", {"i": i}) for i in ids],
        {"items": [[f"i{i}", AT, i / 3] for i in ids]},
    )


def _crash(store: Store) -> None:
    """Stop as a killed process would: the journal is on disk, the database never got it."""
    store.journal.close()
    store.con.close()


def _items(settings: Settings) -> list[tuple[str, dt.datetime, float]]:
    with Store.open(settings) as store:
        assert verify(store.con).ok
        return store.con.execute("SELECT * FROM items ORDER BY id").fetchall()  # type: ignore[return-value]


def _segments(settings: Settings) -> list[Path]:
    return sorted(journal_path(settings.db).glob("*.log"))


def test_journaled_rows_reach_the_database_in_the_audit_chain(settings: Settings) -> None:
    store = _open(settings)
    _journal(store, 0, 3)
    _journal(store, 3, 2)
    assert store.journaled == 5 and store.scalar("SELECT count(*) FROM items") == 0
    store.audit(AuditEntry("tester", "test.read"))  # any other write applies the journal first
    assert store.journaled == 0 and _segments(settings) == []
    rows = store.con.execute(
        "SELECT seq, action, target FROM audit_log WHERE action LIKE 'test.%' ORDER BY seq"
    ).fetchall()
    assert [r[1:] for r in rows] == [("test.schema", None)] + [
        ("test.item", f"item:{i}") for i in range(5)
    ] + [("test.read", None)]
    assert [r[0] for r in rows] == list(range(rows[0][0], rows[0][0] + 7))
    store.close()
    assert _items(settings)[4] == ("i4", AT, 4 / 3)


def test_a_crashed_server_is_replayed_on_open_once(settings: Settings) -> None:
    store = _open(settings)
    _journal(store, 0, 4)
    _crash(store)
    assert _segments(settings)
    assert [r[0] for r in _items(settings)] == ["i0", "i1", "i2", "i3"]
    assert _segments(settings) == []
    assert len(_items(settings)) == 4  # a second open finds nothing to replay


def test_replay_skips_what_the_database_already_holds(settings: Settings) -> None:
    # Applied and committed, then killed before the segments were deleted.
    store = _open(settings)
    _journal(store, 0, 2)
    kept = {p: p.read_bytes() for p in _segments(settings)}
    _journal(store, 2, 1)
    store.apply_journal()
    _journal(store, 3, 2)  # after the apply: a new segment
    for path, data in kept.items():
        path.write_bytes(data)
    _crash(store)
    assert [r[0] for r in _items(settings)] == [f"i{i}" for i in range(5)]


def test_a_line_cut_short_by_a_crash_is_dropped(settings: Settings) -> None:
    store = _open(settings)
    _journal(store, 0, 2)
    _crash(store)
    newest = _segments(settings)[-1]
    with newest.open("ab") as fh:
        fh.write(b'1234abcd {"tables": {"items": [["i9"')  # never flushed, never acknowledged
    assert [r[0] for r in _items(settings)] == ["i0", "i1"]
    assert _segments(settings) == []


def test_a_damaged_line_is_refused_and_changes_nothing(settings: Settings) -> None:
    store = _open(settings)
    _journal(store, 0, 2)
    _journal(store, 2, 2)
    _crash(store)
    segment = _segments(settings)[0]
    data = bytearray(segment.read_bytes())
    data[data.index(b'"i0"') + 2] = ord("X")  # the first line's checksum no longer matches
    segment.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=rf"{segment.name}, line 1: damaged"):
        Store.open(settings)
    assert segment.read_bytes() == bytes(data)  # kept for the operator
    data[data.index(b'"iX"') + 2] = ord("0")
    segment.write_bytes(bytes(data))
    assert len(_items(settings)) == 4


def test_a_journal_that_does_not_continue_the_chain_is_refused(settings: Settings) -> None:
    store = _open(settings)
    _journal(store, 0, 1)
    _crash(store)
    saved = settings.db.parent / "saved"
    shutil.copytree(journal_path(settings.db), saved)
    assert len(_items(settings)) == 1  # replayed; now the database is ahead of the copy
    store = _open(settings)
    store.audit(AuditEntry("tester", "test.read"))
    store.close()
    shutil.rmtree(journal_path(settings.db))
    shutil.copytree(saved, journal_path(settings.db))
    with Store.open(settings) as again:  # the copy's batch is already in: skipped
        assert again.scalar("SELECT count(*) FROM items") == 1
    # A well-formed batch that claims to follow an entry the database does not have.
    store = _open(settings)
    _journal(store, 5, 1)
    _crash(store)
    segment = _segments(settings)[0]
    (batch,) = Journal(journal_path(settings.db)).read()
    batch.audit[0][0] += 5
    segment.write_bytes(encode(batch))
    with pytest.raises(StoreError, match="does not continue the audit chain"):
        Store.open(settings)
    assert segment.exists()


def test_a_failed_append_leaves_the_journal_as_it_was(settings: Settings) -> None:
    store = _open(settings)
    _journal(store, 0, 1)
    segment = _segments(settings)[-1]
    size = segment.stat().st_size
    # A real write error: the file-size limit makes the next write fail with EFBIG.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10, hard))
    try:
        with pytest.raises(StoreError, match="cannot write"):
            _journal(store, 1, 50)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert segment.stat().st_size == size and store.journaled == 1
    _journal(store, 1, 1)  # the chain goes on from the last acknowledged batch
    _crash(store)
    assert [r[0] for r in _items(settings)] == ["i0", "i1"]


def test_appends_go_on_while_another_thread_applies(settings: Settings) -> None:
    store = _open(settings)
    cursor = store.con.cursor()
    done = threading.Event()

    def apply_often() -> None:
        while not done.is_set():
            store.apply_journal(cursor)

    applier = threading.Thread(target=apply_often)
    applier.start()
    try:
        for first in range(0, 600, 3):
            _journal(store, first, 3)
    finally:
        done.set()
        applier.join()
        cursor.close()
    store.close()
    assert len(_items(settings)) == 600


def test_the_applier_thread_applies_once_enough_is_waiting(settings: Settings) -> None:
    store = _open(settings)
    applier = JournalApplier(store, every=5, interval=60)  # only a nudge or close wakes it
    try:
        _journal(store, 0, 3)
        applier.nudge()  # 3 waiting, fewer than 5: it sleeps on
        time.sleep(0.2)
        assert store.journaled == 3
        _journal(store, 3, 2)
        applier.nudge()
        deadline = time.monotonic() + 10
        while store.journaled and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.journaled == 0
        _journal(store, 5, 1)
    finally:
        applier.close()
    store.close()  # applies what the thread may have left, as ``Service.close`` does
    assert [r[0] for r in _items(settings)] == [f"i{i}" for i in range(6)]
