"""Source records: the distinct identity tuples that events carry, and their linkage features.

Resolution works on what a source says about *who* (source, its own subject id, name, date of
birth, sex, id and phone hashes, address), not on every event: a bank reports one customer on
hundreds of instalments with the same identifiers, and linking them hundreds of times would
only repeat the same evidence. A record's id is a digest of its tuple, so the same tuple gets
the same id in every run and every load, which is what lets person ids stay put.

A registry's ``attribute`` event of kind ``address`` states the subject's address; it is used
as the record's address, because it is the one identifier that joins registry records to the
utility bills.

An event retracted by a ``correction`` (its latest correction says ``retract``) gives no
record: a retraction says the event should not have been on file, so what it says about who
its subject is must not link persons either (decision 0212).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from credo.identity.linkage import quoted_path
from credo.identity.names import name_forms
from credo.store.rows import registered

__all__ = [
    "IDENTITY_COLUMNS",
    "RESOLVE_COLUMNS",
    "event_record_key_sql",
    "known_name_forms",
    "linkage_frame",
    "linkage_table",
    "load_records",
    "retracted_sql",
    "write_records",
]

IDENTITY_COLUMNS = (
    "source",
    "subject_ref",
    "name",
    "birth_date",
    "sex",
    "national_id_hash",
    "phone_hash",
    "address",
)


def _event_address(a: str = "") -> str:
    return (
        f"coalesce({a}address, CASE WHEN {a}event_type = 'attribute' AND {a}attribute = "
        f"'address' THEN {a}attribute_value END)"
    )


def _key_sql(columns: dict[str, str]) -> str:
    """md5 of the tuple as JSON (which tells NULL from the text 'NULL')."""
    parts = ", ".join(f"CAST({columns[c]} AS VARCHAR)" for c in IDENTITY_COLUMNS)
    return f"md5(to_json([{parts}]))"


def event_record_key_sql(alias: str = "") -> str:
    """The record id of an event's subject, as a SQL expression over ``events [alias]``."""
    a = f"{alias}." if alias else ""
    return _key_sql({c: (_event_address(a) if c == "address" else a + c) for c in IDENTITY_COLUMNS})


def _has_identity_sql() -> str:
    return " OR ".join(
        f"{c} IS NOT NULL" for c in ("subject_ref", "name", "national_id_hash", "phone_hash")
    )


def retracted_sql() -> str:
    """``(source, source_record_id)`` of every event whose latest correction retracts it (the
    same rule as the features' ``known_events``: the latest correction wins)."""
    return """
        SELECT target_source AS source, target_record_id AS source_record_id FROM (
            SELECT target_source, target_record_id, correction_action,
                   row_number() OVER (PARTITION BY target_source, target_record_id
                       ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest
            FROM events WHERE event_type = 'correction'
        ) WHERE latest = 1 AND correction_action = 'retract'
    """


def _records_sql() -> str:
    cols = ", ".join(
        c if c != "address" else f"{_event_address()} AS address" for c in IDENTITY_COLUMNS
    )
    return f"""
        SELECT {event_record_key_sql()} AS record_id, {cols}, min(recorded_at) AS first_seen_at,
               min(CAST(to_json([source, source_record_id]) AS VARCHAR)) AS origin
        FROM events ANTI JOIN ({retracted_sql()}) x USING (source, source_record_id)
        WHERE {_has_identity_sql()}
        GROUP BY ALL
        ORDER BY record_id
    """


def load_records(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every distinct subject record of the events not retracted, ordered by record id.

    ``origin`` names the record by its first source row (source and source record id): unique
    like the record id, but free of the keyed identifier hashes, so it is the same under any
    identifier key (linkage samples records by it)."""
    table: pa.Table = con.sql(_records_sql()).to_arrow_table()
    return table


RESOLVE_COLUMNS = ("record_id", "national_id_hash", "sex", "birth_date", "origin")
"""The records' columns a full run reads in Python (ids, the national-id rule, origins)."""


def write_records(con: duckdb.DuckDBPyConnection, path: Path) -> pa.Table:
    """``load_records``' table written to the Parquet file ``path`` (in its order), and read
    back with only ``RESOLVE_COLUMNS``: the names, addresses and the other identifiers are
    read by SQL from the file, not held in Python (at a million persons the whole table is
    about 3.4 GiB; decision 0121)."""
    con.execute(f"COPY ({_records_sql()}) TO {quoted_path(path)} (FORMAT parquet)")
    return pq.read_table(path, columns=list(RESOLVE_COLUMNS))


def known_name_forms(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The name forms earlier runs kept (``identity_records``, decision 0305), one row per
    distinct name: reading them is much cheaper than computing pinyin again."""
    table: pa.Table = con.sql(
        "SELECT name, any_value(name_exact) AS name_exact, any_value(name_ordered) AS "
        "name_ordered, any_value(name_key) AS name_key FROM identity_records "
        "WHERE name IS NOT NULL AND origin IS NOT NULL GROUP BY name"
    ).to_arrow_table()
    return table


def _name_table(records: pa.Table, known: pa.Table | None) -> pa.Table:
    """The forms of each distinct name of ``records``, those in ``known`` taken from it."""
    names = pc.unique(records.column("name").drop_null().combine_chunks())
    reused = None
    if known is not None and known.num_rows:
        reused = known.filter(pc.is_in(known.column("name"), value_set=names))
        names = names.filter(pc.invert(pc.is_in(names, value_set=reused.column("name"))))
    forms = [name_forms(n) for n in names.to_pylist()]
    name_table = pa.table(
        {
            "name": pa.array(names, pa.string()),
            "name_exact": pa.array([f.exact if f else None for f in forms], pa.string()),
            "name_ordered": pa.array([f.ordered if f else None for f in forms], pa.string()),
            "name_key": pa.array([f.key if f else None for f in forms], pa.string()),
        }
    )
    if reused is not None:
        name_table = pa.concat_tables([reused.cast(name_table.schema), name_table])
    return name_table


_LINKAGE_SQL = """
    WITH r AS (
        SELECT *, nullif(lower(regexp_replace(nfc_normalize(address), '\\s+', '', 'g')),
                         '') AS address_norm
        FROM {source}
    )
    SELECT r.record_id, r.subject_ref, r.birth_date, r.sex, r.national_id_hash,
           r.phone_hash, n.name_exact, n.name_ordered, n.name_key, r.address_norm,
           right(r.address_norm, 10) AS address_tail{extra}
    FROM r LEFT JOIN credo_names_arrow n USING (name)
    ORDER BY {order}
"""


def linkage_frame(
    con: duckdb.DuckDBPyConnection, records: pa.Table, known: pa.Table | None = None
) -> pa.Table:
    """The columns the comparisons read, computed once per distinct name and address; the
    forms of names in ``known`` (``known_name_forms``) are taken from it."""
    with (
        registered(con, "credo_names_arrow", _name_table(records, known)),
        registered(con, "credo_records_in", records),
    ):
        table: pa.Table = con.sql(
            _LINKAGE_SQL.format(source="credo_records_in", extra="", order="r.record_id")
        ).to_arrow_table()
    return table


def linkage_table(
    con: duckdb.DuckDBPyConnection, name: str, records: Path, known: pa.Table | None = None
) -> None:
    """``linkage_frame``'s columns, and ``idx`` (each record's row number in the Parquet file
    ``records``, ``write_records``'), as the table ``name`` in ``con`` rather than in Python:
    at a million persons the frame would be about 2.7 GiB held through the run (decision
    0119). Its rows are in the records' order, which is ``linkage_frame``'s."""
    source = (
        "(SELECT * EXCLUDE (file_row_number), file_row_number::INTEGER AS idx "
        f"FROM read_parquet({quoted_path(records)}, file_row_number = true))"
    )
    names = _name_table(pq.read_table(records, columns=["name"]), known)
    with registered(con, "credo_names_arrow", names):
        con.execute(
            f"CREATE OR REPLACE TABLE {name} AS "
            + _LINKAGE_SQL.format(source=source, extra=", r.idx", order="r.idx")
        )
