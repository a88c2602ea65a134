"""The database: one DuckDB file, its migrations, and the one audited write path.

``Store.open`` connects, migrates and checks the identifier key. Every write to personal data
goes through ``Store.write(entry)``, a transaction that also appends the audit entry, so the
audit log and the data it describes commit together or not at all; ``Store.write_many(entries)``
is the same path for a batch of writes, each with its own entry, in one transaction (the
server's group commit). ``data_version`` counts those write transactions, so a reader that
remembers data (the server's decision caches) knows when to forget it. DuckDB commits through its
write-ahead log, so a process killed mid-write leaves the file as it was before that write.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from credo.errors import ConfigError, SchemaVersionError, StoreError, StoreLockedError
from credo.settings import Settings
from credo.sql import ident
from credo.store import audit
from credo.store.audit import AuditEntry
from credo.store.crypto import IdentifierKeys, load_or_create_secret
from credo.store.journal import Batch, Journal, Row, journal_path
from credo.store.rows import registered
from credo.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["Store", "memory_limit_bytes", "new_id", "now_or", "serving_marker", "utcnow"]


def utcnow() -> dt.datetime:
    """Wall-clock time for provenance and audit only; scoring never reads it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def now_or(now: dt.datetime | None) -> dt.datetime:
    """The wall clock unless a caller (a test, a replay) gives the time."""
    return utcnow() if now is None else now.replace(tzinfo=None)


def new_id(prefix: str) -> str:
    """A random id for a record the service creates (a dispute, a decision, a message)."""
    return f"{prefix}_{secrets.token_hex(8)}"


_WRITES_KEPT = 1024
_LOCK_PID = re.compile(r"PID (\d+)")


def serving_marker(db: Path) -> Path:
    """The file ``credo serve`` keeps beside the database while it holds it: its process id
    and address, so a command refused by the file lock can name the server to use instead."""
    return db.with_name(db.name + ".serving")


def _holder(path: Path, pid: str | None) -> tuple[str, str]:
    """Who holds the lock, and what to do: the server (if its marker names the locking
    process; a marker left by a killed server names another), else whichever process."""
    try:
        marker = json.loads(serving_marker(path).read_text())
        server_pid, url = str(marker["pid"]), str(marker["url"])
    except (OSError, ValueError, KeyError, TypeError):  # no marker, or not one we wrote
        server_pid, url = None, ""
    if pid is not None and server_pid == pid:
        # Exactly what to do (decision 0635): what goes through the server, and how to stop it.
        return (
            f"'credo serve' (process {pid}, {url})",
            f"this command needs the database to itself: stop the server (Ctrl-C where it"
            f" runs, or 'kill {pid}'), run the command again, then start 'credo serve' again."
            " While it runs, these go through it: status, explain, audit verify, quarantine,"
            " disputes list/resolve/expire/deliver and partners; the console is at"
            f" {url}/console and the operator's API at {url}/docs (under /admin)",
        )
    who = f"process {pid}" if pid else "another process"
    return who, "wait for it to finish; while 'credo serve' runs, use its API"


class Store:
    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, keys: IdentifierKeys):
        self.con = con
        self.settings = settings
        self.keys = keys
        self.path = settings.db
        self.data_version = 0
        """Bumped by every ``write``/``write_many`` (not by an audit entry alone)."""
        self.generation = 0
        """Bumped when :meth:`rewrite` replaces the file and the connection: a holder of a
        cursor of the old connection takes a new one."""
        self.writes: deque[tuple[int, tuple[AuditEntry, ...]]] = deque(maxlen=_WRITES_KEPT)
        """The latest writes' ``data_version`` and audit entries: what each was about, so a
        cache can forget just the persons a write named (the server's decision reads)."""
        # The audit head after our last commit: this connection is the file's only writer
        # (DuckDB's lock), so it stays true until our next append; forgotten on a rollback.
        self._audit_head: tuple[int, str] | None = None
        self.journal = Journal(journal_path(self.path))
        self._journaled: list[Batch] = []
        """Batches durable in the journal that the database does not hold yet."""
        self.journaled = 0
        """Audit entries (one per write) in those batches."""
        # The journal may be applied from another thread (the server's applier, with its own
        # cursor) while appends go on: one lock for the pending list, the files and the head
        # they extend; one, reentrant, for applying (docs/decisions/0612).
        self._journal_lock = threading.Lock()
        self.applying = threading.RLock()
        """Held while the journal is applied; ``Service.run`` takes it before its own lock."""

    @classmethod
    def open(cls, settings: Settings, *, create: bool = True, read_only: bool = False) -> Store:
        path = settings.db
        if not path.exists() and not create:
            raise StoreError(
                f"database {path} does not exist", hint="run 'credo init' or set CREDO_DB"
            )
        if not path.parent.exists():
            raise StoreError(f"directory {path.parent} for the database does not exist")
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=_config(settings))
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                pid = _LOCK_PID.search(msg)
                who, hint = _holder(path, pid.group(1) if pid else None)
                raise StoreLockedError(f"database {path} is in use by {who}", hint=hint) from None
            raise StoreError(f"cannot open database {path}: {msg.splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise StoreError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from None
        try:
            if not read_only:
                _migrate(con, path)
            else:
                _check_version(con, path)
            secret = load_or_create_secret(
                settings.resolved_key_file, settings.secret_key, create=create and not read_only
            )
            keys = IdentifierKeys.from_secret(secret)
            _check_key(con, keys, path, read_only)
            store = cls(con, settings, keys)
            store._replay(read_only)
        except BaseException:
            con.close()
            raise
        return store

    def close(self) -> None:
        try:
            self.apply_journal()
        finally:
            self.journal.close()
            self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def write(self, entry: AuditEntry) -> Iterator[duckdb.DuckDBPyConnection]:
        """The one path for writes: a transaction that commits with its audit entry."""
        with self.write_many([entry]) as con:
            yield con

    @contextmanager
    def write_many(self, entries: Sequence[AuditEntry]) -> Iterator[duckdb.DuckDBPyConnection]:
        """``write`` for a batch: the caller's writes and one entry each, in one transaction.

        One commit (one WAL flush) for the batch instead of one per write is what lets the
        server answer thousands of decisions a second (docs/decisions/0610)."""
        self.data_version += 1
        self.writes.append((self.data_version, tuple(entries)))
        with self._transaction(entries) as con:
            yield con

    def write_journaled(self, entries: Sequence[AuditEntry], tables: dict[str, list[Row]]) -> None:
        """``write_many`` made durable in the journal instead of the database: returns once the
        rows and their chained audit entries are flushed to the journal file; the database gets
        them at the next :meth:`apply_journal`, which every other write and ``close`` call
        first. Only for rows no cached read depends on (decisions, inquiries), so
        ``data_version`` stays (docs/decisions/0612)."""
        if not entries:
            raise ValueError("a journaled write records at least one audit entry")
        with self._journal_lock:
            head = self._audit_head or audit.current_head(self.con)
            rows, new_head = audit.chain(entries, utcnow(), head)
            batch = Batch(tables, [list(r) for r in rows])
            self.journal.append(batch)
            self._journaled.append(batch)
            self.journaled += len(rows)
            self._audit_head = new_head

    def apply_journal(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Give the database what the journal holds, in one transaction, then drop those
        segments; appends may go on meanwhile (into a new segment).

        ``con`` is a cursor of this store's connection for a thread of its own (the server's
        applier). Readers of decisions, inquiries or the audit log in a process that journals
        call this first (``Service.run`` does); writes do it themselves, so the chain stays in
        order."""
        with self.applying:
            with self._journal_lock:
                batches, self._journaled, self.journaled = self._journaled, [], 0
                sealed = self.journal.seal()
            if not batches:
                return
            try:
                _apply(con or self.con, batches)
            except BaseException:
                with self._journal_lock:  # still in the journal: the next apply retries
                    self._journaled[:0] = batches
                    self.journaled += sum(len(b.audit) for b in batches)
                raise
            self.journal.drop(sealed)

    def _replay(self, read_only: bool) -> None:
        """Apply what a killed server left in the journal (each batch once)."""
        batches = self.journal.read()
        if not batches:
            if not read_only:
                self.journal.clear()  # empty segments, or only a torn end
            return
        if read_only:
            raise StoreError(
                f"database {self.path} has {len(batches)} batches of writes in its journal "
                f"{self.journal.path} not yet applied",
                hint="open it for writing once (any writing command, or 'credo serve')",
            )
        last, digest = audit.current_head(self.con)
        pending = []
        for number, batch in enumerate(batches, start=1):
            if batch.last_seq <= last:  # applied before the journal could be emptied
                continue
            if batch.first_seq != last + 1 or batch.audit[0][7] != digest:
                raise StoreError(
                    f"journal {self.journal.path}, batch {number}: does not continue the audit "
                    f"chain (entry {batch.first_seq} after {last})",
                    hint="nothing was changed; keep the file and the database for inspection",
                )
            pending.append(batch)
            last, digest = batch.last_seq, str(batch.audit[-1][8])
        if pending:
            _apply(self.con, pending)
        self.journal.clear()

    def audit(self, entry: AuditEntry) -> None:
        """Record an entry on its own: a read of personal data, a refused sign-in. It changes
        no data, so ``data_version`` stays."""
        with self._transaction([entry]):
            return

    @contextmanager
    def _transaction(self, entries: Sequence[AuditEntry]) -> Iterator[duckdb.DuckDBPyConnection]:
        self.apply_journal()  # the journal's entries come first in the chain
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
            head = audit.append_many(self.con, entries, utcnow(), self._audit_head)
            self.con.execute("COMMIT")
        except BaseException:
            self._audit_head = None
            self.con.execute("ROLLBACK")
            raise
        self._audit_head = head

    def rewrite(self) -> tuple[int, int]:
        """Replace the file by a copy of its live rows, so deleted rows leave no bytes behind
        (an erasure, docs/decisions/0643); the file's size before and after. The caller has
        the store to itself (``Service.exclusive``); the connection is new afterwards, its
        session settings (``fsync_mode``) are the caller's to set again."""
        with self.applying:
            self.apply_journal()
            self.con.execute("CHECKPOINT")
            before = self.path.stat().st_size
            fresh = self.path.with_name(self.path.name + ".rewrite")
            fresh.unlink(missing_ok=True)
            current = self.con.execute("SELECT current_database()").fetchall()[0][0]
            try:
                self.con.execute("ATTACH ? AS credo_fresh", [str(fresh)])
                try:
                    self.con.execute(f"COPY FROM DATABASE {ident(current)} TO credo_fresh")
                    self.con.execute("CHECKPOINT credo_fresh")  # all of it in the file, no WAL
                finally:
                    self.con.execute("DETACH credo_fresh")
            except duckdb.Error as exc:
                fresh.unlink(missing_ok=True)
                raise StoreError(
                    f"cannot rewrite database {self.path}: {str(exc).splitlines()[0]}",
                    hint="the database was not changed",
                ) from None
            self.con.close()
            # A write-ahead log left beside either file would be replayed onto the copy.
            left = [w for w in (self.path, fresh) if w.with_name(w.name + ".wal").exists()]
            if not left:
                os.replace(fresh, self.path)
            self.con = duckdb.connect(str(self.path), config=_config(self.settings))
            self.generation += 1
            self.data_version += 1
            if left:
                fresh.unlink(missing_ok=True)
                raise StoreError(
                    f"cannot rewrite database {self.path}: a write-ahead log is beside {left[0]}",
                    hint="the database was not changed; retry",
                )
            return before, self.path.stat().st_size

    def schema_version(self) -> int:
        return _schema_version(self.con)

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def limit_bytes(self) -> int:
        """The connection's memory limit now, in bytes (:func:`memory_limit_bytes`), read on a
        cursor: that leaves its result open, and the connection must stay free for the
        caller's queries."""
        cursor = self.con.cursor()
        try:
            return memory_limit_bytes(cursor)
        finally:
            cursor.close()


def _config(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {"memory_limit": settings.memory_limit}
    if settings.threads:
        config["threads"] = settings.threads
    path = settings.db
    config["temp_directory"] = str(settings.temp_directory or path.parent / (path.name + ".tmp"))
    return config


def _apply(con: duckdb.DuckDBPyConnection, batches: Sequence[Batch]) -> None:
    """Insert the batches' rows and audit rows in one transaction, one Arrow table per table:
    half the cost of binding Python lists, and the applier holds the GIL less (0612)."""
    tables: dict[str, list[Row]] = {}
    for batch in batches:
        for table, rows in batch.tables.items():
            tables.setdefault(table, []).extend(rows)
    known = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    audit_rows = [r for b in batches for r in b.audit]
    con.execute("BEGIN TRANSACTION")
    try:
        for table, rows in tables.items():
            if table not in known or table == "audit_log":
                raise StoreError(f"journal names an unknown table {table!r}")
            _insert_arrow(con, table, rows)
        _insert_arrow(con, "audit_log", audit_rows)
        audit.set_head(con, audit_rows[-1])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _arrow_rows(rows: Sequence[Row]) -> Any:
    import pyarrow as pa  # only a process that journals pays for loading it

    columns = zip(*rows, strict=True)
    return pa.table({f"c{i}": pa.array(c) for i, c in enumerate(columns)})


def _insert_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Row]) -> None:
    if rows:
        with registered(con, "_journal_rows", _arrow_rows(rows)):
            con.execute(f"INSERT INTO {table} SELECT * FROM _journal_rows")


def load_journal_modules() -> None:
    """Import now what moving the journal imports on first use (pyarrow's conversion of
    Python values loads pandas: 335 modules). A server freezes what it loaded before serving
    (``gc.freeze``); modules loaded later stay for every full collection to walk, which
    paused every request in flight for 50-100 ms (decision 0612)."""
    _arrow_rows([["text", 1, 1.0, True, dt.datetime(2000, 1, 1), dt.date(2000, 1, 1), None]])


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return int(
        con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]
    )


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    version = _schema_version(con)
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"database {path} has schema version {version}, newer than this Credo knows "
            f"({SCHEMA_VERSION})",
            hint="upgrade Credo to open it; it was not changed",
        )
    return version


def _migrate(con: duckdb.DuckDBPyConnection, path: Path, upto: int = SCHEMA_VERSION) -> None:
    """Apply every known migration the file has not recorded, in order.

    Set-based rather than "above the current version", so a migration merged after a later one
    (parallel branches) still reaches databases created in between.
    """
    version = _check_version(con, path)
    applied: set[int] = set()
    if version:
        rows = con.execute("SELECT version FROM schema_migrations").fetchall()
        applied = {int(v) for (v,) in rows}
    pending = [m for m in MIGRATIONS if m.version not in applied and m.version <= upto]
    if not pending:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, "
            "applied_at TIMESTAMP NOT NULL)"
        )
        for m in pending:
            con.execute(m.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [m.version, m.description, utcnow()],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _check_key(
    con: duckdb.DuckDBPyConnection, keys: IdentifierKeys, path: Path, read_only: bool
) -> None:
    rows = con.execute("SELECT value FROM meta WHERE key = 'key_fingerprint'").fetchall()
    if rows:
        if rows[0][0] != keys.fingerprint():
            raise ConfigError(
                f"the identifier key does not belong to database {path}",
                hint="use the key file created with this database (CREDO_KEY_FILE)",
            )
    elif not read_only:
        con.execute("INSERT INTO meta VALUES ('key_fingerprint', ?)", [keys.fingerprint()])


_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's memory limit in bytes, as DuckDB prints it (``2.7 GiB`` for 3 GB: cut
    to a tenth of the unit, so under by 10% at most, which errs towards more parts)."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    text = str(row[0]) if row else ""
    found = re.fullmatch(r"\s*([0-9.]+)\s*(bytes|KiB|MiB|GiB|TiB)\s*", text)
    if found is None:
        raise RuntimeError(f"DuckDB's memory_limit reads {text!r}, not a size like '2.7 GiB'")
    return int(float(found.group(1)) * _UNITS[found.group(2)])
