"""The database file: migrations, the key, the lock, the audited write path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from support import snapshot

from credo.errors import ConfigError, SchemaVersionError, StoreError, StoreLockedError
from credo.ingest.events import FIELDS, PII_FIELDS, PROVENANCE_COLUMNS
from credo.settings import Settings
from credo.store import db as store_db
from credo.store.audit import AuditEntry, verify
from credo.store.db import Store
from credo.store.schema import EVENT_TABLES, EVENT_TYPES, MIGRATIONS, SCHEMA_VERSION


def test_events_table_has_a_column_for_every_field(store: Store) -> None:
    cols = {r[0] for r in store.con.execute("DESCRIBE events").fetchall()}
    wanted = {n if n not in PII_FIELDS else n + "_hash" for n in FIELDS} | set(PROVENANCE_COLUMNS)
    assert cols == wanted


def test_an_older_database_is_migrated(settings: Settings) -> None:
    con = duckdb.connect(str(settings.db))
    store_db._migrate(con, settings.db, upto=1)
    con.execute("INSERT INTO persons VALUES ('p1', TIMESTAMP '2026-01-01', 'active')")
    con.close()
    with Store.open(settings) as store:
        assert store.schema_version() == SCHEMA_VERSION > 1
        assert store.scalar("SELECT count(*) FROM pii_vault") == 0
        assert store.scalar("SELECT person_id FROM persons") == "p1"  # nothing lost
        applied = store.con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        assert [v for (v,) in applied] == [m.version for m in MIGRATIONS]


def test_a_migration_merged_late_still_reaches_existing_databases(settings: Settings) -> None:
    """A database that has a later migration but not the one before it (merged late, from
    another branch) gets the missing one when opened. The later may alter tables of earlier
    ones, so the database has every migration before the late one. The later is 17, not one of
    the last: 18 rebuilds the events view of 17 (decision 0985) and was written on top of it."""
    con = duckdb.connect(str(settings.db))
    store_db._migrate(con, settings.db, upto=15)
    (last,) = [m for m in MIGRATIONS if m.version == 17]
    con.execute(last.sql)
    con.execute("INSERT INTO schema_migrations VALUES (?, 'x', now())", [last.version])
    con.close()
    with Store.open(settings) as store:
        applied = store.con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        assert [v for (v,) in applied] == [m.version for m in MIGRATIONS]  # the late one ran
        # the one before last (16) ran late: its table is there
        assert store.scalar("SELECT count(*) FROM alert_referrals") == 0


def test_migration_17_keeps_each_event_s_type_and_stores_it_nowhere(settings: Settings) -> None:
    """Events stored with their type column before migration 17 read back with the same type
    through ``events``; no per-type table keeps the column (the table is the type)."""
    con = duckdb.connect(str(settings.db))
    store_db._migrate(con, settings.db, upto=16)
    for i, etype in enumerate(EVENT_TYPES, start=1):
        con.execute(
            f"INSERT INTO {EVENT_TABLES[etype]} (event_id, event_type, source, load_id, row_no,"
            " recorded_at, source_record_id, occurred_at) VALUES (?, ?, 's', 1, ?, now(), ?,"
            " TIMESTAMP '2026-01-01')",
            [i, etype, i, f"r{i}"],
        )
    con.close()
    with Store.open(settings) as store:
        rows = store.con.execute("SELECT event_id, event_type FROM events ORDER BY 1").fetchall()
        assert rows == [(i, t) for i, t in enumerate(EVENT_TYPES, start=1)]
        for table in EVENT_TABLES.values():
            cols = {r[0] for r in store.con.execute(f"DESCRIBE {table}").fetchall()}
            assert "event_type" not in cols and "event_id" in cols
        # a filter on the type reads the one table that holds it
        assert store.scalar("SELECT count(*) FROM events WHERE event_type = 'bill'") == 1


def test_a_newer_database_is_refused_and_left_alone(settings: Settings) -> None:
    Store.open(settings).close()
    con = duckdb.connect(str(settings.db))
    con.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', now())")
    con.close()
    before = settings.db.read_bytes()
    with pytest.raises(SchemaVersionError, match="schema version 99, newer than this Credo"):
        Store.open(settings)
    assert settings.db.read_bytes() == before


def test_the_wrong_key_is_refused(settings: Settings, tmp_path: Path) -> None:
    Store.open(settings).close()
    other = Settings(db=settings.db, secret_key="ab" * 32)
    with pytest.raises(ConfigError, match="identifier key does not belong"):
        Store.open(other)
    settings.resolved_key_file.unlink()
    with pytest.raises(ConfigError, match=r"key file .* is missing"):
        Store.open(settings, create=False)


def test_a_malformed_secret_setting_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="64 hexadecimal"):
        Store.open(Settings(db=tmp_path / "x.duckdb", secret_key="nothex"))


def test_a_missing_database_is_not_created_by_readers(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(Settings(db=tmp_path / "none.duckdb"), create=False)
    assert not (tmp_path / "none.duckdb").exists()


def test_a_database_held_by_another_process_is_a_clear_error(settings: Settings) -> None:
    Store.open(settings).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(settings.db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match=rf"in use by process {holder.pid}"):
            Store.open(settings)
    finally:
        holder.communicate("", timeout=30)


def test_a_failed_write_leaves_no_audit_entry_and_no_data(store: Store) -> None:
    before = snapshot(store)
    with (
        pytest.raises(RuntimeError),
        store.write(AuditEntry("tester", "create person", target="p9")) as tx,
    ):
        tx.execute("INSERT INTO persons VALUES ('p9', now(), 'active')")
        raise RuntimeError("interrupted")
    assert snapshot(store) == before


def test_each_write_appends_one_chained_entry(store: Store) -> None:
    for i in range(3):
        with store.write(AuditEntry("tester", "create person", target=f"p{i}")) as tx:
            tx.execute("INSERT INTO persons VALUES (?, now(), 'active')", [f"p{i}"])
    report = verify(store.con)
    assert report.ok and report.entries == 3
    rows = store.con.execute("SELECT seq, target, prev_hash, hash FROM audit_log ORDER BY seq")
    entries = rows.fetchall()
    assert [e[1] for e in entries] == ["p0", "p1", "p2"]
    assert entries[1][2] == entries[0][3] and entries[2][2] == entries[1][3]
    assert report.head == entries[-1][3]


@pytest.mark.parametrize(
    ("tamper", "broken_at", "problem"),
    [
        ("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2", 2, "content does not match"),
        ("UPDATE audit_log SET details = '{\"new\":0}' WHERE seq = 3", 3, "content does not match"),
        ("DELETE FROM audit_log WHERE seq = 2", 2, "entry 2 is missing"),
        ("UPDATE audit_log SET prev_hash = hash WHERE seq = 4", 4, "link to the previous entry"),
        ("DELETE FROM audit_log WHERE seq >= 4", 4, "entries removed from its end"),
    ],
)
def test_verify_names_the_first_tampered_entry(
    store: Store, tamper: str, broken_at: int, problem: str
) -> None:
    for i in range(5):
        store.audit(AuditEntry("tester", "note", details={"i": i, "who": "张伟"}))
    store.con.execute(tamper)
    report = verify(store.con)
    assert (report.ok, report.broken_at) == (False, broken_at)
    assert problem in str(report.problem)
