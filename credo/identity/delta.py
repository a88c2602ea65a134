"""Incremental runs that read only what is new and its neighbourhood (decision 0305).

An incremental run (decision 0211) clusters the new records from the existing persons, which
it may merge but never split. Reading every record to do so made it cost what a full run
costs in everything but prediction. This module instead reads

- the *new events* (event id above the last run's highest), grouped into records;
- the *universe*: the new records, and every record of each person that could take part in
  the run: persons holding a record that shares a blocking key with a new record (so every
  pair the model would score is inside), persons sharing a national id with the universe
  (the id rule), and, for the sole-holder phase (decision 0303), thin persons whose name or
  address the universe carries and the one outside person holding a name or address that a
  thin record of the universe asks for, repeated until nothing is added.

The new records are scored in SQL (``linkage.score_new_pairs``), and of the pairs between a
new record and one known person only those the clustering can act on are kept
(``keep_strongest``, decision 0306), so a touched person is read as a few records.

Records keep their linkage features, origin and verified-id sex in ``identity_records``
(migration 15), so no pinyin is recomputed and no known id is decrypted again. Clustering,
review items and person ids then run unchanged on the universe; names and addresses that
persons outside it hold are passed on (``Outside``), so "the one person holding it" means
the same as in a run over every record.

It applies only when an earlier run recorded how far it read the events (``events_through``)
and nothing below that mark changed since (no event removed, no correction of an old event);
otherwise the caller runs the incremental mode over every record, as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from credo.identity.grouping import Outside
from credo.identity.linkage import ADDRESS_SUFFIX, COMPARISONS, PAIRS_TABLE
from credo.identity.records import (
    IDENTITY_COLUMNS,
    event_record_key_sql,
    linkage_frame,
    retracted_sql,
)
from credo.store.db import Store
from credo.store.rows import registered, value

__all__ = [
    "FEATURES",
    "FEATURES_VERSION",
    "Seen",
    "Universe",
    "candidates",
    "events_seen",
    "keep_strongest",
    "last_seen",
    "reindex",
    "universe",
    "why_not_delta",
]

FEATURES_VERSION = 1
"""Bump when ``names.py`` or the address normalisation changes: stored features of another
version are recomputed rather than trusted."""

FEATURES = ("name_exact", "name_ordered", "name_key", "address_norm", "address_tail")
LINKAGE_COLUMNS = (
    "record_id", "subject_ref", "birth_date", "sex", "national_id_hash", "phone_hash",
    *FEATURES,
)  # fmt: skip
_NAME_ONLY = (
    "r.national_id_hash IS NULL AND r.phone_hash IS NULL AND r.birth_date IS NULL "
    "AND r.address_norm IS NULL"
)
_NAME_AND_ADDRESS = (
    "r.national_id_hash IS NULL AND r.phone_hash IS NULL AND r.birth_date IS NULL "
    "AND r.address_norm IS NOT NULL"
)
_ADDRESS_MATCH = (
    "right(s.address_norm, 8) = right(w.address_norm, 8) "
    "AND length(s.address_norm) >= 8 AND length(w.address_norm) >= 8 "
    "AND (ends_with(s.address_norm, w.address_norm) OR ends_with(w.address_norm, s.address_norm))"
)


@dataclass(frozen=True)
class Seen:
    """How far a run read the events: the highest event id, and how many events had an id
    up to it (fewer or more later means events were removed or inserted below the mark)."""

    through: int
    counted: int
    features_version: int


def events_seen(con: duckdb.DuckDBPyConnection) -> Seen:
    through, counted = con.execute(
        "SELECT coalesce(max(event_id), 0), count(*) FROM events"
    ).fetchall()[0]
    return Seen(int(through), int(counted), FEATURES_VERSION)


def last_seen(store: Store) -> Seen | None:
    """What the last run read, if it recorded it with this version of the features."""
    row = store.con.execute(
        "SELECT summary FROM identity_runs ORDER BY run_id DESC LIMIT 1"
    ).fetchall()
    if not row:
        return None
    summary = json.loads(row[0][0])
    if summary.get("features_version") != FEATURES_VERSION or "events_through" not in summary:
        return None
    return Seen(int(summary["events_through"]), int(summary["events_counted"]), FEATURES_VERSION)


def why_not_delta(store: Store, seen: Seen | None) -> str | None:
    """Why the run must read every record (None: the new events are all it needs)."""
    if seen is None:
        return "the last run did not record which events it read"
    con = store.con
    if value(con, "SELECT count(*) FROM identity_records WHERE origin IS NULL"):
        return "records without stored features"
    below = int(value(con, "SELECT count(*) FROM events WHERE event_id <= ?", [seen.through]))
    if below != seen.counted:
        return "events were removed or inserted below the last run's mark"
    old_targets = value(
        con,
        "SELECT count(*) FROM events c JOIN events t ON t.source = c.target_source "
        "AND t.source_record_id = c.target_record_id "
        "WHERE c.event_type = 'correction' AND c.event_id > ? AND t.event_id <= ?",
        [seen.through, seen.through],
    )
    if old_targets:
        return "a correction of an event an earlier run read"
    return None


def _arrivals_sql(through: int) -> str:
    cols = ", ".join(
        c if c != "address" else
        "coalesce(address, CASE WHEN event_type = 'attribute' AND attribute = 'address' "
        "THEN attribute_value END) AS address"
        for c in IDENTITY_COLUMNS
    )  # fmt: skip
    has = " OR ".join(
        f"{c} IS NOT NULL" for c in ("subject_ref", "name", "national_id_hash", "phone_hash")
    )
    return f"""
        CREATE OR REPLACE TEMP TABLE credo_arrivals AS
        SELECT {event_record_key_sql()} AS record_id, {cols}, min(recorded_at) AS first_seen_at,
               min(CAST(to_json([source, source_record_id]) AS VARCHAR)) AS origin
        FROM events ANTI JOIN ({retracted_sql()}) x USING (source, source_record_id)
        WHERE event_id > {int(through)} AND ({has})
        GROUP BY ALL
    """


@dataclass
class Universe:
    """The records an incremental run works on, ordered by record id, with each one's
    earlier person (None: new), its stored features and verified-id sex."""

    records: pa.Table  # load_records' columns
    features: pa.Table  # linkage_frame's columns, same order
    previous: list[str | None]
    weights: list[int]  # how many of its person's records each record stands for
    known: dict[str, str | None]  # national id hash -> verified sex (None: not valid)
    outside: Outside
    new_records: int
    arrivals: set[str]  # the records the new events name (new or known)


def _fresh(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The new records (in no earlier run) with their linkage features; names whose forms
    an earlier run kept are not read with pinyin again."""
    fresh: pa.Table = con.sql(
        "SELECT a.* FROM credo_arrivals a ANTI JOIN identity_records r USING (record_id) "
        "ORDER BY record_id"
    ).to_arrow_table()
    known: pa.Table = con.sql(
        "SELECT r.name, any_value(r.name_exact) AS name_exact, any_value(r.name_ordered) AS "
        "name_ordered, any_value(r.name_key) AS name_key FROM identity_records r "
        "SEMI JOIN credo_arrivals a USING (name) GROUP BY r.name"
    ).to_arrow_table()
    features = linkage_frame(con, fresh, known)
    fresh = fresh.append_column("id_sex", pa.nulls(fresh.num_rows, pa.string()))
    fresh = fresh.append_column("person_id", pa.nulls(fresh.num_rows, pa.string()))
    for name in FEATURES:
        fresh = fresh.append_column(name, features.column(name))
    return fresh


# Thin persons outside whose name or address a new record carries, or whose name two persons
# of the run hold (a merge may leave one holder): the sole-holder phase may join them to a
# person of this run (decision 0303), so they are read whole.
_THIN = f"""
    INSERT INTO credo_up
    SELECT DISTINCT person_id FROM (
        SELECT o.person_id FROM identity_records o JOIN credo_pflags f USING (person_id)
        WHERE f.name_only AND o.name_exact IN (
            SELECT name_exact FROM credo_fresh
            UNION ALL
            SELECT name_exact FROM identity_records SEMI JOIN credo_up USING (person_id)
            GROUP BY name_exact HAVING count(DISTINCT person_id) > 1
        )
        UNION ALL
        SELECT w.person_id FROM identity_records w JOIN credo_pflags f USING (person_id)
        JOIN credo_fresh s ON {_ADDRESS_MATCH} WHERE f.name_and_address
    ) ANTI JOIN credo_up USING (person_id)
"""

# What thin records of the run ask the sole-holder phase for: the names of name-only records,
# the addresses of name-and-address records (new ones, and those of thin persons read whole).
_ASKED = f"""
    CREATE OR REPLACE TEMP TABLE credo_thin AS
    SELECT r.record_id, r.person_id, r.name_exact, r.national_id_hash, r.phone_hash,
           r.birth_date, r.address_norm
    FROM identity_records r JOIN credo_pflags f USING (person_id)
    WHERE (f.name_only OR f.name_and_address) AND r.person_id IN (SELECT person_id FROM credo_up)
    UNION ALL SELECT record_id, NULL, name_exact, national_id_hash, phone_hash, birth_date,
                     address_norm FROM credo_fresh;
    CREATE OR REPLACE TEMP TABLE credo_asked_names AS
    SELECT DISTINCT name_exact FROM credo_thin r WHERE {_NAME_ONLY} AND name_exact IS NOT NULL;
    CREATE OR REPLACE TEMP TABLE credo_asked_addresses AS
    SELECT DISTINCT record_id, address_norm FROM credo_thin r WHERE {_NAME_AND_ADDRESS};
    -- the one person outside holding an asked name or address is read too
    INSERT INTO credo_up
    SELECT DISTINCT person_id FROM (
        SELECT min(o.person_id) AS person_id FROM identity_records o
        JOIN credo_pflags f USING (person_id)
        WHERE NOT f.name_only AND o.name_exact IN (SELECT name_exact FROM credo_asked_names)
          AND o.person_id NOT IN (SELECT person_id FROM credo_up)
        GROUP BY o.name_exact HAVING count(DISTINCT o.person_id) = 1
        UNION ALL
        SELECT min(s.person_id) FROM credo_asked_addresses w
        JOIN identity_records s ON {_ADDRESS_MATCH}
        JOIN credo_pflags f ON f.person_id = s.person_id
        WHERE NOT f.name_and_address AND s.person_id NOT IN (SELECT person_id FROM credo_up)
        GROUP BY w.record_id HAVING count(DISTINCT s.person_id) = 1
    ) ANTI JOIN credo_up USING (person_id)
"""

# The records of those persons that the run needs one by one; each person's other records
# are represented by one record per distinct set of traits (verified id, sex, date of birth,
# thinness), which is all the clustering's constraints and the sole-holder phase see of them.
_RELEVANT = f"""
    -- the records of the persons so far, read once (identity_records is the whole store)
    CREATE OR REPLACE TEMP TABLE credo_pr AS
    SELECT * FROM identity_records SEMI JOIN credo_up USING (person_id);
    CREATE OR REPLACE TEMP TABLE credo_rel AS
    WITH p AS (SELECT * FROM credo_pr),
    holders AS (  -- persons holding an asked address
        SELECT DISTINCT s.person_id FROM credo_asked_addresses w JOIN p s ON {_ADDRESS_MATCH}
    ),
    reviewed AS (
        SELECT record_l AS record_id FROM identity_reviews
        UNION SELECT record_r FROM identity_reviews
    )
    SELECT DISTINCT record_id FROM (
        SELECT record_id FROM credo_linked
        UNION ALL SELECT record_id FROM credo_thin WHERE person_id IS NOT NULL
        UNION ALL SELECT record_id FROM p SEMI JOIN reviewed USING (record_id)
        -- a person's first record (by origin) of each asked name: the sole-holder phase
        -- counts who holds a name and joins through the holder's first record of it
        UNION ALL SELECT arg_min(record_id, origin) FROM p
                  WHERE name_exact IN (SELECT name_exact FROM credo_asked_names)
                  GROUP BY person_id, name_exact
        -- an address holder's first record of each name and of each address: the phase
        -- compares the asking record's name with each of the holder's names
        UNION ALL SELECT arg_min(record_id, origin) FROM p SEMI JOIN holders USING (person_id)
                  GROUP BY person_id, name_key, name_ordered
        UNION ALL SELECT arg_min(record_id, origin) FROM p SEMI JOIN holders USING (person_id)
                  GROUP BY person_id, address_norm
    );
    -- every record of a verified national id read (the id rule groups them all); the
    -- records read so far are all of credo_pr
    CREATE OR REPLACE TEMP TABLE credo_id_records AS
    SELECT record_id, person_id FROM identity_records
    WHERE national_id_hash IN (SELECT i.national_id_hash FROM credo_pr i
                               SEMI JOIN credo_rel USING (record_id) WHERE i.id_sex IS NOT NULL
                               UNION SELECT national_id_hash FROM credo_fresh);
    CREATE OR REPLACE TEMP TABLE credo_id_persons AS
    SELECT DISTINCT person_id FROM credo_id_records
    WHERE person_id NOT IN (SELECT person_id FROM credo_up);
    INSERT INTO credo_up SELECT person_id FROM credo_id_persons;
    INSERT INTO credo_rel
    SELECT record_id FROM credo_id_records
    WHERE record_id NOT IN (SELECT record_id FROM credo_rel);
    INSERT INTO credo_pr
    SELECT * FROM identity_records SEMI JOIN credo_id_persons USING (person_id);
    CREATE OR REPLACE TEMP TABLE credo_read AS
    WITH p AS (SELECT * FROM credo_pr),
    rest AS (
        SELECT arg_min(record_id, origin) AS record_id, person_id, count(*) AS n
        FROM p ANTI JOIN credo_rel USING (record_id)
        GROUP BY person_id, CASE WHEN id_sex IS NOT NULL THEN national_id_hash END, id_sex,
                 sex, birth_date, ({_NAME_ONLY.replace("r.", "p.")}),
                 ({_NAME_AND_ADDRESS.replace("r.", "p.")})
    )
    SELECT record_id, 1 AS weight FROM credo_rel
    UNION ALL SELECT record_id, n FROM rest
"""


def candidates(store: Store, seen: Seen) -> tuple[pa.Table, pa.Table]:
    """The new records (``_fresh``' columns), and the linkage features of them and of every
    known record sharing a blocking key with one (what the model scores, by record id, with
    a ``new`` flag, and each record's person, None when new, and origin, the earlier of the
    stored one and the new events' one: what ``keep_strongest`` orders by)."""
    con = store.con
    con.execute(_arrivals_sql(seen.through))
    fresh = _fresh(con)
    with registered(con, "credo_fresh_arrow", fresh):
        con.execute("CREATE OR REPLACE TEMP TABLE credo_fresh AS SELECT * FROM credo_fresh_arrow")
    columns = ", ".join(LINKAGE_COLUMNS)
    known = ", ".join(f"r.{c}" for c in LINKAGE_COLUMNS)
    # one scan of the store: the records sharing a blocking key with a new one
    # (``linkage.BLOCKING_RULES``), so every pair the model scores has both records here
    scored: pa.Table = con.sql(
        f"""
        SELECT * FROM (
            SELECT {known}, false AS new, r.person_id, least(r.origin, a.origin) AS origin
            FROM identity_records r LEFT JOIN credo_arrivals a USING (record_id)
            WHERE r.phone_hash IN (SELECT phone_hash FROM credo_fresh)
               OR r.national_id_hash IN (SELECT national_id_hash FROM credo_fresh)
               OR r.subject_ref IN (SELECT subject_ref FROM credo_fresh)
               OR EXISTS (SELECT 1 FROM credo_fresh f
                          WHERE f.name_key = r.name_key AND f.birth_date = r.birth_date)
               OR right(r.address_norm, {ADDRESS_SUFFIX})
                  IN (SELECT right(address_norm, {ADDRESS_SUFFIX}) FROM credo_fresh)
               OR EXISTS (SELECT 1 FROM credo_fresh f
                          WHERE f.address_tail = r.address_tail
                            AND (f.name_key = r.name_key OR f.birth_date = r.birth_date))
            UNION ALL SELECT {columns}, true, NULL, origin FROM credo_fresh
        ) ORDER BY record_id
        """
    ).to_arrow_table()
    return fresh, scored


def keep_strongest(lcon: duckdb.DuckDBPyConnection, order: pa.Table, match_weight: float) -> int:
    """Keep, of the scored pairs between a new record and the records of one known person,
    only the strongest at or above ``match_weight`` and the strongest below it (equal
    weights in the order of the records' origins, as the clustering takes them); the pairs
    kept. ``order``: each scored record's id, person (None: new) and origin.

    The known person is one group before any link is taken (decision 0211), and a link
    joins or is refused by its two groups alone, a refusal standing as groups only grow:
    of the links between a new record and one person only the first taken can act, and the
    review queue keeps the strongest pair below the threshold between two persons. So the
    persons, links and reviews found are those of all the pairs, while every known record
    a dropped pair named need not be read one by one (a new record's pairs reach most of its
    person's records: on the hard preset a fifth of the store, decision 0306)."""
    weights = ", ".join(f"mw_{c.name}" for c in COMPARISONS)
    with registered(lcon, "credo_order_arrow", order):
        lcon.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE credo_ranked AS
            WITH k AS (
                SELECT r.idx, o.person_id, row_number() OVER (ORDER BY o.origin, r.record_id)
                       AS rank
                FROM credo_records r JOIN credo_order_arrow o USING (record_id)
            ),
            s AS (
                SELECT p.*, ka.rank AS ra, kb.rank AS rb, ka.person_id AS pa,
                       kb.person_id AS pb
                FROM {PAIRS_TABLE} p JOIN k ka ON ka.idx = p.a JOIN k kb ON kb.idx = p.b
            )
            SELECT *, pa IS NULL AND pb IS NULL OR row_number() OVER (
                PARTITION BY CASE WHEN pa IS NULL THEN a ELSE b END, coalesce(pa, pb),
                             match_weight >= {float(match_weight)!r}
                ORDER BY match_weight DESC, least(ra, rb), greatest(ra, rb)) = 1 AS kept
            FROM s
            """
        )
    lcon.execute(
        f"CREATE OR REPLACE TABLE {PAIRS_TABLE} AS SELECT a, b, match_weight, {weights} "
        "FROM credo_ranked WHERE kept"
    )
    # the others, by record id: those between records the run reads anyway come back in
    # ``reindex``, so a link between them shows its comparison weights as before
    lcon.execute(
        "CREATE OR REPLACE TEMP TABLE credo_pairs_dropped AS SELECT l.record_id AS record_l, "
        f"r.record_id AS record_r, p.match_weight, {weights} FROM credo_ranked p "
        "JOIN credo_records l ON l.idx = p.a JOIN credo_records r ON r.idx = p.b WHERE NOT kept"
    )
    lcon.execute("DROP TABLE credo_ranked")
    return int(value(lcon, f"SELECT count(*) FROM {PAIRS_TABLE}"))


def universe(store: Store, fresh: pa.Table, linked: list[str]) -> Universe:
    """The new records and the records of the persons an incremental run may touch (those
    of the known records in the pairs ``keep_strongest`` kept, ``linked``, and those the
    module names); see the module."""
    con = store.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE credo_pflags AS SELECT r.person_id, "
        f"bool_and({_NAME_ONLY}) AS name_only, bool_and({_NAME_AND_ADDRESS}) AS "
        "name_and_address FROM identity_records r GROUP BY r.person_id"
    )
    linked_table = pa.table({"record_id": pa.array(linked, pa.string())})
    with registered(con, "credo_linked_arrow", linked_table):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE credo_linked AS SELECT r.record_id FROM "
            "identity_records r SEMI JOIN credo_linked_arrow USING (record_id)"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE credo_up AS SELECT DISTINCT person_id FROM "
        "identity_records SEMI JOIN credo_linked USING (record_id)"
    )
    con.execute(_THIN)
    con.execute(_ASKED)
    con.execute(_RELEVANT)
    columns = ", ".join(
        f"least(u.{c}, a.{c}) AS {c}" if c in ("first_seen_at", "origin") else f"u.{c}"
        for c in fresh.column_names
    )
    # a known record named by new events takes their first time and origin if earlier
    records: pa.Table = con.sql(
        f"SELECT {columns}, u.weight FROM (SELECT r.*, k.weight FROM credo_pr r "
        "JOIN credo_read k USING (record_id) "
        "UNION ALL BY NAME SELECT *, 1 AS weight FROM credo_fresh) u "
        "LEFT JOIN (SELECT record_id, first_seen_at, origin FROM credo_arrivals) a "
        "USING (record_id) ORDER BY u.record_id"
    ).to_arrow_table()
    outside = _outside(con)
    index = {r: i for i, r in enumerate(records.column("record_id").to_pylist())}
    arrivals = {r for (r,) in con.execute("SELECT record_id FROM credo_arrivals").fetchall()}
    known = {
        h: s
        for h, s, p in zip(
            records.column("national_id_hash").to_pylist(),
            records.column("id_sex").to_pylist(),
            records.column("person_id").to_pylist(),
            strict=True,
        )
        if h is not None and p is not None
    }
    held_addresses = [index[r] for r in outside[1]]
    for table in ("credo_pflags", "credo_thin", "credo_asked_names",
                  "credo_asked_addresses", "credo_rel", "credo_read", "credo_pr",
                  "credo_id_records", "credo_id_persons", "credo_linked"):  # fmt: skip
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return Universe(
        records=records.select(["record_id", *IDENTITY_COLUMNS, "first_seen_at", "origin"]),
        features=records.select(list(LINKAGE_COLUMNS)),
        previous=records.column("person_id").to_pylist(),
        weights=records.column("weight").to_pylist(),
        known=known,
        outside=Outside(outside[0], held_addresses),
        new_records=fresh.num_rows,
        arrivals=arrivals,
    )


def _outside(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """Asked names that a person outside the run holds; asked addresses (by the asking
    record) that a person outside holds. Either is then never held by one person alone."""
    names = [
        r[0]
        for r in con.execute(
            """
            SELECT DISTINCT o.name_exact FROM identity_records o
            JOIN credo_pflags f USING (person_id)
            WHERE NOT f.name_only AND o.person_id NOT IN (SELECT person_id FROM credo_up)
              AND o.name_exact IN (SELECT name_exact FROM credo_asked_names)
            ORDER BY 1
            """
        ).fetchall()
    ]
    addresses = [
        r[0]
        for r in con.execute(
            f"""
            SELECT DISTINCT w.record_id FROM credo_asked_addresses w
            JOIN identity_records s ON {_ADDRESS_MATCH}
            JOIN credo_pflags f ON f.person_id = s.person_id
            WHERE NOT f.name_and_address AND s.person_id NOT IN (SELECT person_id FROM credo_up)
            ORDER BY 1
            """
        ).fetchall()
    ]
    return names, addresses


def reindex(lcon: duckdb.DuckDBPyConnection, features: pa.Table) -> None:
    """Make the linkage connection's records ``features`` (the universe), renumbering the
    scored pairs' record indexes from the records they were scored on to the universe's."""
    indexed = features.append_column("idx", pa.array(range(features.num_rows), pa.int32()))
    with registered(lcon, "credo_universe_arrow", indexed):
        lcon.execute("CREATE OR REPLACE TABLE credo_universe AS SELECT * FROM credo_universe_arrow")
    lcon.execute(
        "CREATE OR REPLACE TEMP TABLE credo_map AS SELECT a.idx AS old, b.idx AS new "
        "FROM credo_records a JOIN credo_universe b USING (record_id)"
    )
    weights = ", ".join(f"p.mw_{c.name}" for c in COMPARISONS)
    before = value(lcon, f"SELECT count(*) FROM {PAIRS_TABLE}")
    lcon.execute(
        f"CREATE OR REPLACE TABLE {PAIRS_TABLE} AS SELECT least(x.new, y.new) AS a, "
        f"greatest(x.new, y.new) AS b, p.match_weight, {weights} FROM {PAIRS_TABLE} p "
        "JOIN credo_map x ON x.old = p.a JOIN credo_map y ON y.old = p.b"
    )
    after = value(lcon, f"SELECT count(*) FROM {PAIRS_TABLE}")
    if before != after:  # every scored record is in the universe: a bug otherwise
        raise AssertionError(f"{before - after} scored pairs lost their records")
    if lcon.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'credo_pairs_dropped'"
    ).fetchall():  # the pairs ``keep_strongest`` set aside whose records are all read
        lcon.execute(
            f"INSERT INTO {PAIRS_TABLE} SELECT least(x.idx, y.idx), greatest(x.idx, y.idx), "
            f"p.match_weight, {weights} FROM credo_pairs_dropped p "
            "JOIN credo_universe x ON x.record_id = p.record_l "
            "JOIN credo_universe y ON y.record_id = p.record_r"
        )
        lcon.execute("DROP TABLE credo_pairs_dropped")
    lcon.execute("DROP TABLE credo_records")
    lcon.execute("ALTER TABLE credo_universe RENAME TO credo_records")
    lcon.execute("DROP TABLE credo_map")
