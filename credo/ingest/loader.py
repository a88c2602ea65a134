"""``ingest``: one source file in, as one atomic, idempotent load.

The order of work is what makes a load safe:

1. hash the file; a file already loaded for this source adds nothing;
2. stage it in one read (``reader``), every row validated in SQL (``validate``): nothing is
   written yet;
3. compare record ids with stored events: the same record again is a duplicate, the same id
   with other values a conflict;
4. if more rows are rejected than allowed, stop: the database is unchanged;
5. otherwise write the load, its new events, new identifier ciphertexts, quarantined rows and
   the audit entry in one transaction. DuckDB commits it whole or not at all, also when the
   process is killed.
"""

from __future__ import annotations

import array
import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from credo.errors import ConfigError, ConflictError, NotFoundError, RejectedRowsError
from credo.ingest.compressed import sha256_checked
from credo.ingest.events import EVENT_FIELDS
from credo.ingest.mapping import Mapping, compression, parse_mapping, shipped_mapping
from credo.ingest.plain import PlainScan
from credo.ingest.reader import open_raw
from credo.ingest.triage import (
    Reason,
    Tally,
    count_outcome,
    drop_staging,
    find_conflicts,
    hash_identifiers,
    mark_rejects,
    payload_columns,
    typed_events_sql,
)
from credo.ingest.validate import OneRead, Withheld
from credo.sql import ident, literal
from credo.store.audit import AuditEntry
from credo.store.crypto import normalize_sql
from credo.store.db import Store, utcnow
from credo.store.rows import insert, registered, rows, value
from credo.store.schema import event_table

__all__ = ["LoadReport", "binary_column", "ingest", "resolve_mapping"]

Progress = Callable[[str], None]
_CONFLICT = "conflict"


@dataclass(frozen=True)
class LoadReport:
    """What a load did; accepted + rejected = read, always."""

    source: str
    file: str
    load_id: int | None
    rows_read: int
    rows_accepted: int
    rows_new: int
    rows_duplicate: int
    rows_rejected: int
    encoding: str | None
    file_format: str
    already_loaded_as: int | None = None
    stored: bool = True
    reasons: list[Reason] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Staged:
    """The file as staged: what the steps after staging need to know of it."""

    path: Path
    source: str
    mapping: Mapping
    rows_read: int
    encoding: str | None
    fmt: str
    names: list[str]
    content_hash: str
    started: dt.datetime


def resolve_mapping(store: Store, source: str, mapping: Mapping | None) -> Mapping:
    """The mapping for a load: the one given, else the source's registered one, else shipped."""
    if mapping is not None:
        if mapping.source != source:
            raise ConfigError(
                f"the mapping is for source '{mapping.source}', not '{source}'",
                hint="pass the mapping for this source, or the right --source",
            )
        return mapping
    rows = store.con.execute("SELECT mapping FROM sources WHERE source = ?", [source]).fetchall()
    if rows:
        return parse_mapping(json.loads(rows[0][0]), f"registered mapping of source '{source}'")
    shipped = shipped_mapping(source)
    if shipped is None:
        raise NotFoundError(
            f"no mapping for source '{source}'", hint="pass one with --mapping MAPPING.yaml"
        )
    return shipped


def _existing(store: Store, source: str, content_hash: str) -> int | None:
    rows = store.con.execute(
        "SELECT load_id FROM loads WHERE source = ? AND content_hash = ? ORDER BY load_id LIMIT 1",
        [source, content_hash],
    ).fetchall()
    return int(rows[0][0]) if rows else None


def _already_loaded(store: Store, path: Path, source: str, fmt: str, prior: int) -> LoadReport:
    """The report for a file this source has loaded before: the rows that load accepted are
    duplicates now, and the ones it rejected are rejected again (they stay in its quarantine),
    so read = accepted + rejected as on every report."""
    (first,) = rows(
        store.con,
        "SELECT rows_read, rows_accepted, rows_rejected, encoding FROM loads WHERE load_id = ?",
        [prior],
    )
    return LoadReport(
        source=source,
        file=path.name,
        load_id=None,
        rows_read=int(first["rows_read"]),
        rows_accepted=int(first["rows_accepted"]),
        rows_new=0,
        rows_duplicate=int(first["rows_accepted"]),
        rows_rejected=int(first["rows_rejected"]),
        encoding=first["encoding"],
        file_format=fmt,
        already_loaded_as=prior,
        stored=False,
    )


def _is_csv(mapping: Mapping, path: Path) -> bool:
    """Whether ``path`` is read as CSV; a path ``file_format`` refuses is not (it raises once
    the file is hashed, as before)."""
    try:
        return mapping.file_format(path) == "csv"
    except ConfigError:
        return False


def ingest(
    store: Store,
    path: Path,
    source: str,
    mapping: Mapping | None = None,
    *,
    encoding: str | None = None,
    max_reject_rate: float | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
    withheld: Withheld | None = None,
) -> LoadReport:
    """Load one file as events. ``withheld``: values stored as a generic one, those that reveal
    a basis the rules profile forbids (R-CRR-4); the CLI and the demo pass
    ``credo.policy.bases.withheld_for(settings)``, a library caller must too."""
    step = progress or (lambda _name: None)
    settings = store.settings
    rate_allowed = settings.max_reject_rate if max_reject_rate is None else max_reject_rate
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    mapping = resolve_mapping(store, source, mapping)
    con = store.con
    step("hashing")
    # A CSV's bytes are also scanned in this read for what staging may skip (decision 0124).
    scan = PlainScan(mapping.delimiter, mapping.quote) if _is_csv(mapping, path) else None
    # A damaged .gz stops here, before anything.
    content_hash = sha256_checked(path, None if scan is None else scan.feed)
    prior = _existing(store, source, content_hash)
    fmt = mapping.file_format(path)
    if prior is not None:
        return _already_loaded(store, path, source, fmt, prior)
    started = utcnow()
    now_limit = started + dt.timedelta(hours=settings.future_tolerance_hours)
    step("reading")
    plans: list[OneRead] = []

    def staging(source: str, types: dict[str, str], plain: bool) -> str:
        plans.append(OneRead(mapping, types, now_limit, withheld, plain))
        return plans[-1].staged(source)

    # One read of the file: each row numbered as read, parsed and checked once; the text is
    # kept of bad rows only (docs/decisions/0963). A large file's rows are staged in a file
    # of their own, which DuckDB compresses, not in a temp table, which it spills uncompressed
    # (0988).
    plain = scan is not None and scan.plain
    with (
        _staging(store, path, fmt) as table,
        open_raw(con, path, mapping, encoding, table=table, staging=staging, plain=plain) as raw,
    ):
        step("validating")
        plan = plans[-1]
        con.execute(f"CREATE OR REPLACE TEMP VIEW typed AS {plan.typed(table)}")
        names = plan.names
        staged = _Staged(
            path, source, mapping, raw.rows, raw.encoding, fmt, names, content_hash, started
        )
        try:
            return _finish(store, staged, rate_allowed, actor, step, plan.bad_rows(table))
        finally:
            drop_staging(con)


_STAGING_DB = "credo_staging"

STAGE_IN_FILE_SHARE = 0.5
"""A file whose text would take more than this share of the store's memory limit is staged in
a file (decision 0988). Its text is estimated as the file's size, four times it for a
compressed file (gzip, Parquet): the staged table holds about 1.8 times the text's bytes, so
past half the limit it would spill."""


def stage_in_file(path: Path, fmt: str, limit_bytes: int) -> bool:
    """Whether ``path`` is large enough beside ``limit_bytes`` to be staged in a file: the
    benchmark's 10M-row CSV (853 MB) stays in a temp table under the default 3 GB, where a
    file cost 40% more wall time; a million persons' payments (3.1 GB gzipped) go to a file."""
    size = path.stat().st_size
    packed = compression(path) is not None or fmt == "parquet"
    return size * (4 if packed else 1) > STAGE_IN_FILE_SHARE * limit_bytes


@contextmanager
def _staging(store: Store, path: Path, fmt: str) -> Iterator[str]:
    """The staged table's name: a temp table, or for a large file a table of a file beside
    the store (:func:`_staging_file`)."""
    if not stage_in_file(path, fmt, store.limit_bytes()):
        yield "staged"
        return
    with _staging_file(store) as table:
        yield table


@contextmanager
def _staging_file(store: Store) -> Iterator[str]:
    """The name of the staged table, in a DuckDB file beside the store (``<db>.staging``),
    attached for the load and removed after it, a leftover of a killed load first.

    A temp table is kept uncompressed, in memory and where it spills (``<db>.tmp``): at 1M
    persons the utilities' 96.6M staged rows spilled 17 GB. In a file DuckDB compresses them:
    at 4.8M rows 123 MB against 574 MB spilled, the same rows loaded (decision 0988)."""
    path = Path(f"{store.settings.db}.staging")
    wal = Path(f"{path}.wal")
    path.unlink(missing_ok=True)
    wal.unlink(missing_ok=True)
    store.con.execute(f"ATTACH {literal(str(path))} AS {_STAGING_DB}")
    try:
        yield f"{_STAGING_DB}.staged"
    finally:
        store.con.execute(f"DETACH {_STAGING_DB}")
        path.unlink(missing_ok=True)
        wal.unlink(missing_ok=True)


def _finish(
    store: Store,
    staged: _Staged,
    rate_allowed: float,
    actor: str | None,
    step: Progress,
    bad_rows: str,
) -> LoadReport:
    """Triage the staged rows, refuse the file if too many are rejected, else store it.
    ``bad_rows``: the SQL giving the bad rows' text and reasons (``OneRead.bad_rows``)."""
    con = store.con
    mark_rejects(con, staged.names, bad_rows)
    pii = hash_identifiers(store, staged.mapping, staged.names)
    payload = payload_columns(staged.names)
    typed_events = typed_events_sql(staged.names, pii)
    step("checking duplicates")
    find_conflicts(con, staged.source, typed_events, payload)
    tally = count_outcome(con, staged.rows_read)
    if tally.rejected and tally.rejected > rate_allowed * staged.rows_read:
        raise _refusal(staged, tally, rate_allowed)
    step("storing")
    stored = typed_events_sql(staged.names, pii, stored=True)
    load_id = _store(store, staged, tally, stored, payload, bool(pii), actor)
    return _report(staged, tally, load_id)


def _report(staged: _Staged, tally: Tally, load_id: int | None) -> LoadReport:
    """What the load did; ``load_id`` is None when nothing was stored."""
    return LoadReport(
        source=staged.source,
        file=staged.path.name,
        load_id=load_id,
        rows_read=staged.rows_read,
        rows_accepted=tally.accepted,
        rows_new=tally.new,
        rows_duplicate=tally.duplicates,
        rows_rejected=tally.rejected,
        encoding=staged.encoding,
        file_format=staged.fmt,
        stored=load_id is not None,
        reasons=tally.reasons,
        examples=tally.examples,
    )


def _refusal(
    staged: _Staged, tally: Tally, rate_allowed: float
) -> ConflictError | RejectedRowsError:
    """The error for a file with more rejects than allowed: a conflict when only reused record
    ids were rejected, else the rejected rows with the report."""
    first = tally.examples[0]
    where = f"row {first['row']}, field {first['field']}: {first['reason']}"
    summary = (
        f"{staged.path}: {tally.rejected} of {staged.rows_read} rows rejected (first: {where}); "
        "nothing was stored"
    )
    if all(r.reason.startswith(_CONFLICT) for r in tally.reasons):
        return ConflictError(summary, hint="a record id was reused with different values")
    return RejectedRowsError(
        summary,
        hint=f"fix the file, or allow a share of bad rows with --max-reject-rate "
        f"(now {rate_allowed:g})",
        report=_report(staged, tally, None),
    )


def _store(
    store: Store,
    staged: _Staged,
    tally: Tally,
    typed_events: str,
    payload: list[str],
    has_pii: bool,
    actor: str | None,
) -> int:
    """Write the load in one transaction with its audit entry: the new events, the identifiers
    new to the vault, the quarantined rows, the source's mapping and the load itself."""
    entry = AuditEntry(
        actor=actor or store.settings.actor,
        action="ingest",
        target=f"source:{staged.source}",
        purpose="load source file",
        details={
            "file": staged.path.name,
            "sha256": staged.content_hash,
            "new": tally.new,
            "rejected": tally.rejected,
        },
    )
    with store.write(entry) as tx:
        load_id = int(value(tx, "SELECT coalesce(max(load_id), 0) + 1 FROM loads"))
        base = int(value(tx, "SELECT coalesce(max(event_id), 0) FROM events"))
        now = utcnow()
        _insert_events(tx, staged, typed_events, payload, load_id, base)
        if has_pii:
            _store_ciphertexts(store, tx, load_id)
        tx.execute(
            "INSERT INTO quarantine SELECT ?, ?, ?, row_no, field, reason, raw_value FROM rejects "
            "ORDER BY row_no, field",
            [load_id, staged.source, staged.path.name],
        )
        _register_source(tx, staged.source, staged.mapping, now)
        _record_load(tx, staged, tally, load_id, now, entry.actor)
    return load_id


def _insert_events(
    tx: duckdb.DuckDBPyConnection,
    staged: _Staged,
    typed_events: str,
    payload: list[str],
    load_id: int,
    base: int,
) -> None:
    """The rows neither bad nor seen before, as events numbered from ``base`` by row."""
    for etype in staged.mapping.event_types():
        # Each type has its own table (migration 7), which is its type (migration 17): only
        # its own columns are written.
        own = [c for c in payload if c.removesuffix("_hash") in EVENT_FIELDS[etype]]
        own_sql = ", ".join(ident(c) for c in own)
        tx.execute(
            f"INSERT INTO {event_table(etype)} (event_id, source, load_id, "
            f"row_no, recorded_at, {own_sql}) SELECT {base} + row_no, ?, ?, "
            f"row_no, ?, {own_sql} FROM ({typed_events}) f WHERE event_type = ? "
            "AND NOT is_bad AND row_no NOT IN (SELECT row_no FROM conflicts)",
            [staged.source, load_id, staged.started, etype],
        )


def _register_source(
    tx: duckdb.DuckDBPyConnection, source: str, mapping: Mapping, now: dt.datetime
) -> None:
    """Keep the mapping used as the source's registered one (the next load's default)."""
    doc = json.dumps(mapping.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    tx.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
        "mapping = excluded.mapping, mapping_digest = excluded.mapping_digest, "
        "updated_at = excluded.updated_at",
        [source, doc, mapping.digest(), now, now],
    )


def _record_load(
    tx: duckdb.DuckDBPyConnection,
    staged: _Staged,
    tally: Tally,
    load_id: int,
    now: dt.datetime,
    actor: str,
) -> None:
    path = staged.path
    insert(
        tx,
        "loads",
        {
            "load_id": load_id,
            "source": staged.source,
            "file_name": path.name,
            "file_path": str(path.resolve()),
            "content_hash": staged.content_hash,
            "size_bytes": path.stat().st_size,
            "file_format": staged.fmt,
            "encoding": staged.encoding,
            "mapping_digest": staged.mapping.digest(),
            "rows_read": staged.rows_read,
            "rows_accepted": tally.accepted,
            "rows_new": tally.new,
            "rows_duplicate": tally.duplicates,
            "rows_rejected": tally.rejected,
            "status": "committed",
            "started_at": staged.started,
            "finished_at": now,
            "actor": actor,
        },
    )


def binary_column(blobs: list[bytes]) -> pa.Array:
    """``blobs`` as an Arrow large-binary array, built from its two buffers.

    ``pa.array(blobs, pa.binary())`` imports pandas to ask whether the list is a pandas object:
    ~0.35 CPU-s of every ``credo ingest`` process, the one import of pandas on its path
    (docs/decisions/0984). The offsets are 64-bit, so a load's ciphertexts may exceed 2 GiB.
    """
    offsets = array.array("q", itertools.accumulate(map(len, blobs), initial=0))
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(blobs))]
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(blobs), buffers)


def _store_ciphertexts(store: Store, tx: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Encrypt each identifier the vault does not hold yet, once."""
    # One row per (kind, hash), grouped on the 128-bit integer of the hash (cheaper than its
    # text) and in no order: the vault is a set, and sorting 500k hashes cost ~0.4 CPU-s
    # (docs/decisions/0991). Each value is normalised here, as its hash was, not in Python.
    plain = (
        f"CASE WHEN kind = 'phone' THEN {normalize_sql('phone', 'raw')} "
        f"ELSE {normalize_sql('national_id', 'raw')} END"
    )
    todo = tx.sql(
        f"SELECT kind, hash, {plain} AS plain FROM (SELECT kind, any_value(hash) AS hash, "
        "arg_min(raw, raw) AS raw FROM pii_map m WHERE NOT EXISTS (SELECT 1 FROM pii_vault v "
        "WHERE v.kind = m.kind AND v.hash = m.hash) GROUP BY kind, num)"
    ).to_arrow_table()
    if todo.num_rows == 0:
        return
    kinds = todo.column("kind").to_pylist()
    plains = todo.column("plain").to_pylist()
    blobs = store.keys.encrypt_many(kinds, plains, normalized=True)
    batch = pa.table(
        {
            "kind": todo.column("kind"),
            "hash": todo.column("hash"),
            "ciphertext": binary_column(blobs),
        }
    )
    with registered(tx, "vault_batch", batch):
        tx.execute(
            "INSERT INTO pii_vault SELECT kind, hash, ciphertext, ? FROM vault_batch", [load_id]
        )
