"""``event_persons`` rebuilt from the current resolution, keeping the rows that did not change.

A source record's events belong to the record's person (role ``subject``); a connection event's
counterpart belongs to the one person its national id, phone or source reference names
unambiguously (role ``counterpart``). Decision 0212 says why an event the resolution does not
place keeps the subject it has; a court listing joined to its person by anything weaker than
the person's identity number is placed nowhere, and loses the subject it had (RULES R-BL-5).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from credo.identity.records import event_record_key_sql
from credo.store.rows import registered
from credo.store.schema import hash_text_sql

__all__ = ["rebuild_event_persons"]


def _placed_sql() -> str:
    """``credo_ep``: every (event, role, person) the current resolution places."""
    key = event_record_key_sql("e")
    return f"""
        CREATE OR REPLACE TEMP TABLE credo_ep AS
        WITH subjects AS (
            SELECT e.event_id, 'subject' AS role, r.person_id
            FROM events e JOIN identity_records r ON r.record_id = {key}
            WHERE e.event_id NOT IN (SELECT event_id FROM credo_weak_listings)
        ),
        by_nid AS (
            SELECT national_id_hash AS h, any_value(person_id) AS person_id
            FROM identity_records WHERE national_id_hash IS NOT NULL
            GROUP BY 1 HAVING count(DISTINCT person_id) = 1
        ),
        by_phone AS (
            SELECT phone_hash AS h, any_value(person_id) AS person_id
            FROM identity_records WHERE phone_hash IS NOT NULL
            GROUP BY 1 HAVING count(DISTINCT person_id) = 1
        ),
        by_ref AS (
            SELECT source, subject_ref, any_value(person_id) AS person_id
            FROM identity_records WHERE subject_ref IS NOT NULL
            GROUP BY ALL HAVING count(DISTINCT person_id) = 1
        ),
        counterparts AS (
            SELECT e.event_id, 'counterpart' AS role,
                   coalesce(n.person_id, p.person_id, f.person_id) AS person_id
            FROM events e
            LEFT JOIN by_nid n ON n.h = e.counterpart_national_id_hash
            LEFT JOIN by_phone p ON p.h = e.counterpart_phone_hash
            LEFT JOIN by_ref f ON f.source = e.source AND f.subject_ref = e.counterpart_ref
            WHERE e.event_type = 'connection'
        )
        SELECT * FROM subjects
        UNION ALL
        SELECT * FROM counterparts WHERE person_id IS NOT NULL
        """


def _weak_listings_sql() -> str:
    """``credo_weak_listings``: court listings whose record joined its person without the
    person's identity number (RULES R-BL-5: never by name alone; the Ningbo case). A listing
    holds a person only if another source knows that person by the listing's own number, or
    the person is known from that source alone (the listing is all there is of them). Only
    listings: a later record of the case (a satisfaction) lifts the listing of its person and
    harms no one, and the court feed links it to the listing's person itself."""
    key = event_record_key_sql("e")
    return f"""
        CREATE OR REPLACE TEMP TABLE credo_weak_listings AS
        SELECT e.event_id FROM events e JOIN identity_records r ON r.record_id = {key}
        WHERE e.event_type = 'court_judgment' AND e.judgment_status = 'listed' AND (
            e.national_id_hash IS NULL
            OR (NOT EXISTS (SELECT 1 FROM identity_records o WHERE o.person_id = r.person_id
                    AND o.source <> e.source AND o.national_id_hash = e.national_id_hash)
                AND EXISTS (SELECT 1 FROM identity_records o WHERE o.person_id = r.person_id
                    AND o.source <> e.source)))
        """


def rebuild_event_persons(
    tx: duckdb.DuckDBPyConnection, merged_into: pa.Table, now: dt.datetime
) -> tuple[int, int]:
    """Make ``event_persons`` the current resolution; the subjects and counterparts placed.

    An event the resolution does not place as a subject keeps the subject it has, moved to
    the survivor if that person was merged (``merged_into``: old, new): events the service
    wrote for a known person carry no identity fields, and a retracted event stays on the file
    of the person it was about, marked corrected, without linking anyone."""
    tx.execute(_weak_listings_sql())
    tx.execute(_placed_sql())
    tx.execute(
        "DELETE FROM event_persons o WHERE NOT EXISTS (SELECT 1 FROM credo_ep n "
        "WHERE n.event_id = o.event_id AND n.role = o.role AND n.person_id = o.person_id) "
        "AND (o.role <> 'subject' OR EXISTS (SELECT 1 FROM credo_ep n "
        "WHERE n.event_id = o.event_id AND n.role = 'subject') "
        "OR o.event_id IN (SELECT event_id FROM credo_weak_listings))"
    )
    with registered(tx, "credo_merged_into", merged_into):
        tx.execute(
            "UPDATE event_persons SET person_id = m.new FROM credo_merged_into m "
            "WHERE event_persons.person_id = m.old"
        )
    tx.execute(
        "INSERT INTO event_persons SELECT n.event_id, n.role, n.person_id, ? FROM credo_ep n "
        "ANTI JOIN event_persons o ON o.event_id = n.event_id AND o.role = n.role",
        [now],
    )
    counts = dict(tx.execute("SELECT role, count(*) FROM credo_ep GROUP BY 1").fetchall())
    tx.execute("DROP TABLE credo_ep")
    tx.execute("DROP TABLE credo_weak_listings")
    return int(counts.get("subject", 0)), int(counts.get("counterpart", 0))


def place_new_events(
    tx: duckdb.DuckDBPyConnection, merged_into: pa.Table, now: dt.datetime, through: int
) -> tuple[int, int]:
    """``rebuild_event_persons`` for a run over part of the records (decision 0305): only
    events that may have moved are placed again. An incremental run merges persons but never
    splits them, so those are the events above ``through`` (new), the events of merged
    persons (moved to the survivor in place), and the connection events whose counterpart's
    national id, phone or source reference a record of this run (``credo_new_records``)
    carries: a new record can make such a counterpart ambiguous, a merge unambiguous.
    The counts are of all subjects and counterparts on file."""
    tx.register("credo_merged_into", merged_into)
    tx.execute(
        "UPDATE event_persons SET person_id = m.new, linked_at = ? FROM credo_merged_into m "
        "WHERE event_persons.person_id = m.old",
        [now],
    )
    # R-BL-5 as in a full run: a merge can make an old listing weak, so all listings are read
    # (a listing is one court record; they are few beside the events)
    tx.execute(_weak_listings_sql())
    key = event_record_key_sql("e")
    text = hash_text_sql
    tx.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE credo_ep AS
        WITH k AS (  -- the run's records and every record of a person that took others
            SELECT national_id_hash, phone_hash, source, subject_ref FROM credo_new_records
            UNION ALL
            SELECT national_id_hash, phone_hash, source, subject_ref FROM identity_records
            WHERE person_id IN (SELECT new FROM credo_merged_into)
        ),
        touched AS (
            SELECT e.event_id FROM events_connection e
            WHERE e.event_id > {int(through)}
               OR {text("e.counterpart_national_id_hash")} IN (SELECT national_id_hash FROM k)
               OR {text("e.counterpart_phone_hash")} IN (SELECT phone_hash FROM k)
               -- a struct with a NULL field matches another with one: only real refs
               OR (e.counterpart_ref IS NOT NULL AND (e.source, e.counterpart_ref) IN
                   (SELECT (source, subject_ref) FROM k WHERE subject_ref IS NOT NULL))
        ),
        arrived AS MATERIALIZED (  -- the new events' records, keyed before the join
            SELECT e.event_id, {key} AS record_id FROM events e
            WHERE e.event_id > {int(through)}
              AND e.event_id NOT IN (SELECT event_id FROM credo_weak_listings)
        ),
        subjects AS (
            SELECT a.event_id, 'subject' AS role, r.person_id
            FROM arrived a JOIN identity_records r USING (record_id)
        ),
        c AS (  -- the event table's hashes are UHUGEINT (migration 18): as text, as stored
            SELECT e.* REPLACE ({text("e.counterpart_national_id_hash")}
                                AS counterpart_national_id_hash,
                                {text("e.counterpart_phone_hash")} AS counterpart_phone_hash)
            FROM events_connection e SEMI JOIN touched USING (event_id)
        ),
        by_nid AS (
            SELECT national_id_hash AS h, any_value(person_id) AS person_id
            FROM identity_records
            WHERE national_id_hash IN (SELECT counterpart_national_id_hash FROM c)
            GROUP BY 1 HAVING count(DISTINCT person_id) = 1
        ),
        by_phone AS (
            SELECT phone_hash AS h, any_value(person_id) AS person_id
            FROM identity_records WHERE phone_hash IN (SELECT counterpart_phone_hash FROM c)
            GROUP BY 1 HAVING count(DISTINCT person_id) = 1
        ),
        by_ref AS (
            SELECT source, subject_ref, any_value(person_id) AS person_id
            FROM identity_records WHERE subject_ref IN (SELECT counterpart_ref FROM c)
            GROUP BY ALL HAVING count(DISTINCT person_id) = 1
        ),
        counterparts AS (
            SELECT e.event_id, 'counterpart' AS role,
                   coalesce(n.person_id, p.person_id, f.person_id) AS person_id
            FROM c e
            LEFT JOIN by_nid n ON n.h = e.counterpart_national_id_hash
            LEFT JOIN by_phone p ON p.h = e.counterpart_phone_hash
            LEFT JOIN by_ref f ON f.source = e.source AND f.subject_ref = e.counterpart_ref
        )
        SELECT *, false AS cleared FROM subjects
        UNION ALL
        SELECT *, person_id IS NULL AS cleared FROM counterparts
        """
    )
    # rows of the events placed again that differ; a counterpart no longer placed is removed
    tx.execute(
        "DELETE FROM event_persons o USING credo_ep n WHERE n.event_id = o.event_id "
        "AND n.role = o.role AND (n.cleared OR n.person_id <> o.person_id)"
    )
    tx.execute(
        "INSERT INTO event_persons SELECT n.event_id, n.role, n.person_id, ? FROM credo_ep n "
        "ANTI JOIN event_persons o ON o.event_id = n.event_id AND o.role = n.role "
        "WHERE NOT n.cleared",
        [now],
    )
    tx.execute(
        "DELETE FROM event_persons WHERE role = 'subject'"
        " AND event_id IN (SELECT event_id FROM credo_weak_listings)"
    )
    tx.execute("DROP TABLE credo_ep")
    tx.execute("DROP TABLE credo_weak_listings")
    tx.unregister("credo_merged_into")
    counts = dict(tx.execute("SELECT role, count(*) FROM event_persons GROUP BY 1").fetchall())
    return int(counts.get("subject", 0)), int(counts.get("counterpart", 0))
