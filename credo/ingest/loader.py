"""``ingest``: one source file in, as one atomic, idempotent load.

The order of work is what makes a load safe:

1. hash the file; a file already loaded for this source adds nothing;
2. stage it (``reader``) and validate every row in SQL (``validate``): nothing is written yet;
3. compare record ids with stored events: the same record again is a duplicate, the same id
   with other values a conflict;
4. if more rows are rejected than allowed, stop: the database is unchanged;
5. otherwise write the load, its new events, new identifier ciphertexts, quarantined rows and
   the audit entry in one transaction. DuckDB commits it whole or not at all, also when the
   process is killed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from credo.errors import ConfigError, ConflictError, NotFoundError, RejectedRowsError
from credo.ingest.events import EVENT_FIELDS, PII_FIELDS
from credo.ingest.mapping import Mapping, parse_mapping, shipped_mapping
from credo.ingest.reader import open_raw
from credo.ingest.validate import stage_sql
from credo.sql import ident
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.rows import registered
from credo.store.schema import event_table

__all__ = ["LoadReport", "Reason", "ingest", "resolve_mapping"]

Progress = Callable[[str], None]
_CONFLICT = "conflict"
_PII_KIND = {
    "national_id": "national_id",
    "counterpart_national_id": "national_id",
    "phone": "phone",
    "counterpart_phone": "phone",
}


@dataclass(frozen=True)
class Reason:
    field: str
    reason: str
    rows: int


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


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


def _payload_columns(names: list[str]) -> list[str]:
    return [n for n in names if n not in PII_FIELDS] + [
        f"{n}_hash" for n in names if n in PII_FIELDS
    ]


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
) -> LoadReport:
    step = progress or (lambda _name: None)
    settings = store.settings
    rate_allowed = settings.max_reject_rate if max_reject_rate is None else max_reject_rate
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    mapping = resolve_mapping(store, source, mapping)
    con = store.con
    step("hashing")
    content_hash = _sha256(path)
    prior = _existing(store, source, content_hash)
    fmt = mapping.file_format(path)
    if prior is not None:
        read = store.scalar("SELECT rows_read FROM loads WHERE load_id = ?", [prior])
        return LoadReport(
            source,
            path.name,
            None,
            int(read),
            int(read),
            0,
            int(read),
            0,
            None,
            fmt,
            already_loaded_as=prior,
            stored=False,
        )
    started = utcnow()
    now_limit = started + dt.timedelta(hours=settings.future_tolerance_hours)
    step("reading")
    with open_raw(con, path, mapping, encoding) as raw:
        step("validating")
        sql, names = stage_sql(mapping, raw.columns, now_limit)
        # A view, not a table: each step below reads only the columns it needs, and the clean
        # rows are typed once more on their way into ``events`` instead of being copied twice.
        con.execute(f"CREATE OR REPLACE TEMP VIEW typed AS {sql}")
        try:
            return _finish(
                store,
                path,
                source,
                mapping,
                raw.rows,
                raw.encoding,
                fmt,
                names,
                content_hash,
                started,
                rate_allowed,
                actor,
                step,
            )
        finally:
            con.execute("DROP VIEW IF EXISTS typed")
            for t in ("bad", "rejects", "pii_map", "dup_ids", "cand", "conflicts"):
                con.execute(f"DROP TABLE IF EXISTS {t}")


def _finish(
    store: Store,
    path: Path,
    source: str,
    mapping: Mapping,
    rows_read: int,
    encoding: str | None,
    fmt: str,
    names: list[str],
    content_hash: str,
    started: dt.datetime,
    rate_allowed: float,
    actor: str | None,
    step: Progress,
) -> LoadReport:
    con = store.con
    all_fields = ["event_type", *names]
    errs = [ident("e_" + n) for n in all_fields]
    raws = [ident("r_" + n) for n in all_fields]
    # Rows that fail validation: every row is checked, only the (usually few) bad ones kept.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bad AS SELECT row_no, {', '.join(errs + raws)} "
        f"FROM typed WHERE {' OR '.join(e + ' IS NOT NULL' for e in errs)}"
    )
    unpivot = " UNION ALL ".join(
        f"SELECT row_no, '{n}' AS field, {e} AS reason, CAST({r} AS VARCHAR) AS raw_value "
        f"FROM bad WHERE {e} IS NOT NULL"
        for n, e, r in zip(all_fields, errs, raws, strict=True)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE rejects AS {unpivot}")

    # Identifiers: each distinct value hashed once, in the engine (HMAC with the store's key).
    pii = [n for n in names if n in PII_FIELDS and n in mapping.fields]
    parts, params = [], []
    for n in pii:
        col = ident("v_" + n)
        h_sql, h_params = store.keys.hash_sql(_PII_KIND[n], "raw")
        parts.append(
            f"SELECT '{_PII_KIND[n]}' AS kind, raw, {h_sql} AS hash FROM "
            f"(SELECT DISTINCT {col} AS raw FROM typed t ANTI JOIN bad b ON t.row_no = b.row_no "
            f"WHERE {col} IS NOT NULL)"
        )
        params += h_params
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pii_map AS "
        + (
            " UNION ".join(parts)
            if parts
            else "SELECT NULL::VARCHAR AS kind, NULL::VARCHAR AS raw, NULL::VARCHAR AS hash LIMIT 0"
        ),
        params,
    )
    select_cols = []
    joins = []
    for n in names:
        if n in pii:
            alias = ident("m_" + n)
            joins.append(
                f"LEFT JOIN pii_map {alias} ON {alias}.kind = '{_PII_KIND[n]}' "
                f"AND {alias}.raw = t.{ident('v_' + n)}"
            )
            select_cols.append(f"{alias}.hash AS {ident(n + '_hash')}")
        elif n in PII_FIELDS:
            select_cols.append(f"CAST(NULL AS VARCHAR) AS {ident(n + '_hash')}")
        else:
            select_cols.append(f"t.{ident('v_' + n)} AS {ident(n)}")
    payload = _payload_columns(names)
    typed_events = (
        "SELECT t.row_no, t.event_type, " + ", ".join(select_cols) + " FROM typed t "
        + " ".join(joins)
    )  # fmt: skip

    step("checking duplicates")
    # Record ids seen twice in the file or already stored for the source: only those rows are
    # compared value by value.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dup_ids AS "
        "SELECT v_source_record_id AS rid FROM typed GROUP BY 1 HAVING count(*) > 1 "
        "UNION SELECT source_record_id FROM events WHERE source = ? AND source_record_id IN "
        "(SELECT v_source_record_id FROM typed)",
        [source],
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cand AS SELECT * FROM ({typed_events}) c "
        "WHERE c.source_record_id IN (SELECT rid FROM dup_ids) "
        "AND c.row_no NOT IN (SELECT row_no FROM bad)"
    )
    same = " AND ".join(
        f"a.{ident(c)} IS NOT DISTINCT FROM b.{ident(c)}" for c in ["event_type", *payload]
    )
    # Within the file: the first row of a record id wins; a later identical row is a duplicate,
    # a later different one a conflict.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE conflicts AS "
        f"SELECT b.row_no, 'in-file' AS kind, min(a.row_no) AS other, bool_and({same}) AS same "
        "FROM cand a JOIN cand b ON a.source_record_id = b.source_record_id "
        "AND a.row_no < b.row_no GROUP BY b.row_no"
    )
    con.execute(
        "INSERT INTO conflicts SELECT a.row_no, 'stored', min(b.event_id), bool_and(" + same + ") "
        "FROM cand a JOIN (SELECT * FROM events WHERE source = ?) b "
        "ON a.source_record_id = b.source_record_id GROUP BY a.row_no",
        [source],
    )
    con.execute(
        "INSERT INTO rejects SELECT c.row_no, 'source_record_id', "
        "CASE kind WHEN 'in-file' THEN 'conflict: row ' || other || ' of this file has this "
        "record id with other values' ELSE 'conflict: stored event ' || other || ' has this "
        "record id with other values' END, f.source_record_id "
        "FROM conflicts c JOIN cand f USING (row_no) WHERE NOT c.same"
    )
    rejected = int(con.execute("SELECT count(DISTINCT row_no) FROM rejects").fetchall()[0][0])
    duplicates = int(
        con.execute(
            "SELECT count(DISTINCT row_no) FROM conflicts WHERE same AND row_no NOT IN "
            "(SELECT row_no FROM rejects)"
        ).fetchall()[0][0]
    )
    accepted = rows_read - rejected
    new = accepted - duplicates
    reasons = [
        Reason(f, r, int(c))
        for f, r, c in con.execute(
            "SELECT field, CASE WHEN reason LIKE 'conflict:%' THEN 'conflict: record id already "
            "used with other values' ELSE reason END AS r, count(*) AS c FROM rejects "
            "GROUP BY ALL ORDER BY c DESC, field, r LIMIT 10"
        ).fetchall()
    ]
    examples = [
        {"row": int(r), "field": f, "reason": why, "value": v}
        for r, f, why, v in con.execute(
            "SELECT row_no, field, reason, raw_value FROM rejects ORDER BY row_no, field LIMIT 5"
        ).fetchall()
    ]
    report = LoadReport(
        source,
        path.name,
        None,
        rows_read,
        accepted,
        new,
        duplicates,
        rejected,
        encoding,
        fmt,
        stored=False,
        reasons=reasons,
        examples=examples,
    )
    if rejected and rejected > rate_allowed * rows_read:
        only_conflicts = all(r.reason.startswith(_CONFLICT) for r in reasons)
        first = examples[0]
        where = f"row {first['row']}, field {first['field']}: {first['reason']}"
        summary = (
            f"{path}: {rejected} of {rows_read} rows rejected (first: {where}); nothing was stored"
        )
        if only_conflicts:
            raise ConflictError(summary, hint="a record id was reused with different values")
        err = RejectedRowsError(
            summary,
            hint=f"fix the file, or allow a share of bad rows with --max-reject-rate "
            f"(now {rate_allowed:g})",
            report=report,
        )
        raise err
    step("storing")
    entry = AuditEntry(
        actor=actor or store.settings.actor,
        action="ingest",
        target=f"source:{source}",
        purpose="load source file",
        details={"file": path.name, "sha256": content_hash, "new": new, "rejected": rejected},
    )
    with store.write(entry) as tx:
        load_id = int(
            tx.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]
        )
        base = int(tx.execute("SELECT coalesce(max(event_id), 0) FROM events").fetchall()[0][0])
        now = utcnow()
        for etype in mapping.event_types():
            # Each type has its own table (migration 7); only its own columns are written.
            own = [c for c in payload if c.removesuffix("_hash") in EVENT_FIELDS[etype]]
            own_sql = ", ".join(ident(c) for c in own)
            tx.execute(
                f"INSERT INTO {event_table(etype)} (event_id, event_type, source, load_id, "
                f"row_no, recorded_at, {own_sql}) SELECT {base} + row_no, event_type, ?, ?, "
                f"row_no, ?, {own_sql} FROM ({typed_events}) f WHERE event_type = ? "
                "AND row_no NOT IN (SELECT row_no FROM bad) "
                "AND row_no NOT IN (SELECT row_no FROM conflicts)",
                [source, load_id, started, etype],
            )
        if pii:
            _store_ciphertexts(store, tx, load_id)
        tx.execute(
            "INSERT INTO quarantine SELECT ?, ?, ?, row_no, field, reason, raw_value FROM rejects "
            "ORDER BY row_no, field",
            [load_id, source, path.name],
        )
        doc = json.dumps(mapping.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        tx.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
            "mapping = excluded.mapping, mapping_digest = excluded.mapping_digest, "
            "updated_at = excluded.updated_at",
            [source, doc, mapping.digest(), now, now],
        )
        tx.execute(
            "INSERT INTO loads VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'committed', ?, ?, ?)",
            [
                load_id,
                source,
                path.name,
                str(path.resolve()),
                content_hash,
                path.stat().st_size,
                fmt,
                encoding,
                mapping.digest(),
                rows_read,
                accepted,
                new,
                duplicates,
                rejected,
                started,
                now,
                entry.actor,
            ],
        )
    return LoadReport(
        source,
        path.name,
        load_id,
        rows_read,
        accepted,
        new,
        duplicates,
        rejected,
        encoding,
        fmt,
        reasons=reasons,
        examples=examples,
    )


def _store_ciphertexts(store: Store, tx: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Encrypt each identifier the vault does not hold yet, once."""
    todo = tx.sql(
        "SELECT kind, arg_min(raw, raw) AS raw, hash FROM pii_map m "
        "WHERE NOT EXISTS (SELECT 1 FROM pii_vault v WHERE v.kind = m.kind AND v.hash = m.hash) "
        "GROUP BY kind, hash ORDER BY kind, hash"
    ).to_arrow_table()
    if todo.num_rows == 0:
        return
    kinds = todo.column("kind").to_pylist()
    raws = todo.column("raw").to_pylist()
    encrypt = store.keys.encrypt
    blobs = [encrypt(k, r) for k, r in zip(kinds, raws, strict=True)]
    batch = pa.table(
        {
            "kind": todo.column("kind"),
            "hash": todo.column("hash"),
            "ciphertext": pa.array(blobs, pa.binary()),
        }
    )
    with registered(tx, "vault_batch", batch):
        tx.execute(
            "INSERT INTO pii_vault SELECT kind, hash, ciphertext, ? FROM vault_batch", [load_id]
        )
