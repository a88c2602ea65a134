"""Triage of a staged file: which rows are rejected, duplicates, conflicts, or new.

Every step is SQL over the ``typed`` view (``validate.stage_sql``) and leaves a temporary table
for the next, so no Python loop touches a row and nothing stored is written:

1. ``bad``, ``rejects``: the rows that fail validation, and one reject per failing field;
2. ``pii_map``: each distinct identifier of a good row, hashed once in the engine;
3. ``dup_ids``, ``cand``, ``conflicts``: record ids seen twice (in the file, or stored for the
   source), compared value by value; a conflict is one more reject;
4. ``count_outcome``: how many rows were rejected and duplicates, and why.

``loader`` runs the steps in this order and drops the tables afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from credo.identifiers import mask
from credo.ingest.events import PII_FIELDS
from credo.ingest.mapping import Mapping
from credo.sql import ident
from credo.store.db import Store
from credo.store.rows import rows, value
from credo.store.schema import hash_number_sql

__all__ = [
    "IDENTIFYING",
    "Reason",
    "Tally",
    "count_outcome",
    "drop_staging",
    "find_conflicts",
    "hash_identifiers",
    "mark_rejects",
    "payload_columns",
    "repeated_in_file_sql",
    "typed_events_sql",
]

IDENTIFYING = (*PII_FIELDS, "name", "counterpart_name")
"""Fields whose rejected values are kept masked (quarantine, messages): ids, phones, names."""

_STAGING_TABLES = ("bad", "rejects", "pii_map", "dup_ids", "cand", "conflicts")
_PII_KIND = {
    "national_id": "national_id",
    "counterpart_national_id": "national_id",
    "phone": "phone",
    "counterpart_phone": "phone",
}


@dataclass(frozen=True)
class Reason:
    """Why rows were rejected: a field, a reason, and how many rows."""

    field: str
    reason: str
    rows: int


@dataclass(frozen=True)
class Tally:
    """The triage's outcome; every row read is accepted (new or a duplicate) or rejected."""

    rows_read: int
    rejected: int
    duplicates: int
    reasons: list[Reason]
    examples: list[dict[str, Any]]

    @property
    def accepted(self) -> int:
        return self.rows_read - self.rejected

    @property
    def new(self) -> int:
        return self.accepted - self.duplicates


def payload_columns(names: list[str]) -> list[str]:
    """The stored columns of the mapped fields: identifiers are stored as their hash."""
    return [n for n in names if n not in PII_FIELDS] + [
        f"{n}_hash" for n in names if n in PII_FIELDS
    ]


def mark_rejects(con: duckdb.DuckDBPyConnection, names: list[str], bad_rows: str) -> None:
    """``bad``: the rows failing validation; ``rejects``: one row per failing field of them.

    Every row was checked as it was staged (``is_bad``); ``bad_rows`` gives the source text and
    the reasons (``r_``, ``e_``) of the (usually few) bad ones."""
    all_fields = ["event_type", *names]
    errs = [ident("e_" + n) for n in all_fields]
    raws = [ident("r_" + n) for n in all_fields]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bad AS SELECT row_no, {', '.join(errs + raws)} "
        f"FROM ({bad_rows}) WHERE {' OR '.join(e + ' IS NOT NULL' for e in errs)}"
    )
    flagged = int(value(con, "SELECT count(*) FROM typed WHERE is_bad"))
    found = int(value(con, "SELECT count(*) FROM bad"))
    if flagged != found:  # the staged check and the full one disagree: store nothing
        raise RuntimeError(f"{flagged} rows were flagged bad but {found} have a reason")
    unpivot = " UNION ALL ".join(
        f"SELECT row_no, '{n}' AS field, {e} AS reason, CAST({r} AS VARCHAR) AS raw_value "
        f"FROM bad WHERE {e} IS NOT NULL"
        for n, e, r in zip(all_fields, errs, raws, strict=True)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE rejects AS {unpivot}")
    _mask_identifiers(con)


def _mask_identifiers(con: duckdb.DuckDBPyConnection) -> None:
    """Mask the rejected values of identifying fields before anything reads ``rejects``: the
    quarantine, the error's examples and the console then never hold one in clear."""
    fields = ", ".join(f"'{f}'" for f in IDENTIFYING)
    found = rows(con, f"SELECT DISTINCT raw_value FROM rejects WHERE field IN ({fields})"
                      " AND raw_value IS NOT NULL")  # fmt: skip
    if not found:
        return
    raw = [str(r["raw_value"]) for r in found]
    con.execute(
        "UPDATE rejects SET raw_value = m.masked FROM (SELECT unnest(?) AS raw,"
        f" unnest(?) AS masked) m WHERE rejects.raw_value = m.raw AND field IN ({fields})",
        [raw, [mask(v) for v in raw]],
    )


def hash_identifiers(store: Store, mapping: Mapping, names: list[str]) -> list[str]:
    """``pii_map``: each distinct identifier of the good rows with its hash (HMAC with the
    store's key, computed in the engine once per value), as text (``hash``: the vault, the
    duplicate check) and as the UHUGEINT the event tables store (``num``, migration 18): each
    row's insert takes the integer from the join on its identifier it already made, and
    converts nothing (docs/decisions/0985).
    Returns the identifier fields mapped."""
    pii = [n for n in names if n in PII_FIELDS and n in mapping.fields]
    parts, params = [], []
    for n in pii:
        col = ident("v_" + n)
        h_sql, h_params = store.keys.hash_sql(_PII_KIND[n], "raw")
        parts.append(
            f"SELECT '{_PII_KIND[n]}' AS kind, raw, {h_sql} AS hash FROM "
            f"(SELECT DISTINCT {col} AS raw FROM typed WHERE NOT is_bad AND {col} IS NOT NULL)"
        )
        params += h_params
    hashed = (
        " UNION ".join(parts)
        if parts
        else "SELECT NULL::VARCHAR AS kind, NULL::VARCHAR AS raw, NULL::VARCHAR AS hash LIMIT 0"
    )
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE pii_map AS SELECT kind, raw, hash, "
        f"{hash_number_sql('hash')} AS num FROM ({hashed}) h",
        params,
    )
    return pii


def typed_events_sql(names: list[str], pii: list[str], *, stored: bool = False) -> str:
    """The staged rows as events: the stored columns, identifiers replaced by their hash, as
    the ``events`` view gives it (text) or, ``stored``, as an event table holds it (UHUGEINT,
    from ``pii_map.num``)."""
    select_cols = []
    joins = []
    hash_col, hash_type = ("num", "UHUGEINT") if stored else ("hash", "VARCHAR")
    for n in names:
        if n in pii:
            alias = ident("m_" + n)
            joins.append(
                f"LEFT JOIN pii_map {alias} ON {alias}.kind = '{_PII_KIND[n]}' "
                f"AND {alias}.raw = t.{ident('v_' + n)}"
            )
            select_cols.append(f"{alias}.{hash_col} AS {ident(n + '_hash')}")
        elif n in PII_FIELDS:
            select_cols.append(f"CAST(NULL AS {hash_type}) AS {ident(n + '_hash')}")
        else:
            select_cols.append(f"t.{ident('v_' + n)} AS {ident(n)}")
    return (
        "SELECT t.row_no, t.event_type, t.is_bad, " + ", ".join(select_cols) + " FROM typed t "
        + " ".join(joins)
    )  # fmt: skip


def repeated_in_file_sql(con: duckdb.DuckDBPyConnection, typed: str) -> str:
    """A SELECT (ending in a space) of each record id found on more than one row of ``typed``.

    Most files repeat no record id, and one pass shows it: when no two ids have the same
    64-bit hash, no id can come twice (equal ids hash equally). The hashes are sorted by NumPy
    and neighbours compared: ~0.9 CPU-s for 10M ids, where DuckDB's ``count(DISTINCT ..)``
    took ~2.5-3.1 (decision 0125; it was itself cheaper than grouping, decision 0983).
    Otherwise the ids are grouped by hash first (cheaper than by text) and only those whose
    hash comes twice by their text, so a hash collision finds nothing."""
    if _hashes_distinct(con, typed):
        return "SELECT CAST(NULL AS VARCHAR) AS rid WHERE false "
    return (
        f"SELECT v_source_record_id AS rid FROM {typed} WHERE hash(v_source_record_id) IN "
        f"(SELECT hash(v_source_record_id) FROM {typed} GROUP BY 1 HAVING count(*) > 1) "
        "GROUP BY 1 HAVING count(*) > 1 "
    )


def _hashes_distinct(con: duckdb.DuckDBPyConnection, typed: str) -> bool:
    """Whether the record ids of ``typed`` (NULLs aside) have pairwise different hashes."""
    hashes = con.execute(
        f"SELECT hash(v_source_record_id) AS h FROM {typed} WHERE v_source_record_id IS NOT NULL"
    ).fetchnumpy()["h"]
    hashes.sort()
    return not bool((hashes[1:] == hashes[:-1]).any())


def find_conflicts(
    con: duckdb.DuckDBPyConnection, source: str, typed_events: str, payload: list[str]
) -> None:
    """``conflicts``: each good row whose record id came before, in the file or stored, and
    whether its values are the same (a duplicate) or not (a conflict, added to ``rejects``).

    Only the rows of record ids seen twice (``dup_ids``) are compared value by value."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dup_ids AS "
        f"{repeated_in_file_sql(con, 'typed')}"
        "UNION SELECT source_record_id FROM events WHERE source = ? AND source_record_id IN "
        "(SELECT v_source_record_id FROM typed)",
        [source],
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cand AS SELECT * FROM ({typed_events}) c "
        "WHERE c.source_record_id IN (SELECT rid FROM dup_ids) AND NOT c.is_bad"
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


def count_outcome(con: duckdb.DuckDBPyConnection, rows_read: int) -> Tally:
    """Count the rejected and duplicate rows; the most frequent reasons and the first rejects."""
    rejected = int(value(con, "SELECT count(DISTINCT row_no) FROM rejects"))
    duplicates = int(
        value(
            con,
            "SELECT count(DISTINCT row_no) FROM conflicts WHERE same AND row_no NOT IN "
            "(SELECT row_no FROM rejects)",
        )
    )
    reasons = [
        Reason(r["field"], r["r"], int(r["c"]))
        for r in rows(
            con,
            "SELECT field, CASE WHEN reason LIKE 'conflict:%' THEN 'conflict: record id already "
            "used with other values' ELSE reason END AS r, count(*) AS c FROM rejects "
            "GROUP BY ALL ORDER BY c DESC, field, r LIMIT 10",
        )
    ]
    examples = [
        {
            "row": int(r["row_no"]),
            "field": r["field"],
            "reason": r["reason"],
            "value": r["raw_value"],
        }
        for r in rows(
            con,
            "SELECT row_no, field, reason, raw_value FROM rejects ORDER BY row_no, field LIMIT 5",
        )
    ]
    return Tally(rows_read, rejected, duplicates, reasons, examples)


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the ``typed`` view and every table the triage left, whether or not it got there."""
    con.execute("DROP VIEW IF EXISTS typed")
    for t in _STAGING_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {t}")
