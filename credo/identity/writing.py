"""A run's result written in one audited transaction: model, records, links, reviews, persons,
merges and splits, ``event_persons`` and the run log.

Person ids are ``CP`` and nine digits, numbered on from the highest ever given. A merge or split
is recorded in ``identity_changes`` with the links that caused it (decision 0300).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from credo.identity.cluster import Assignment
from credo.identity.delta import FEATURES, Seen
from credo.identity.event_persons import place_new_events, rebuild_event_persons
from credo.identity.grouping import NewReview, Outcome
from credo.identity.linkage import quoted_path
from credo.identity.linkage_model import LinkageModel
from credo.identity.records import IDENTITY_COLUMNS
from credo.identity.report import Mode
from credo.identity.stored_model import activate
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.rows import insert, insert_many, registered, value

__all__ = [
    "PERSON_PREFIX",
    "Change",
    "Delta",
    "RunDetails",
    "RunFiles",
    "RunSummary",
    "changes",
    "next_person_number",
    "write_run",
]

PERSON_PREFIX = "CP"


@dataclass(frozen=True)
class Change:
    """A merge or a split, as an ``identity_changes`` row."""

    kind: str  # "merge" or "split"
    person_id: str  # the survivor of a merge, the person a split took records from
    others: list[str]
    evidence: dict[str, Any]


@dataclass(frozen=True)
class RunDetails:
    """The run as its audit entry describes it."""

    run_id: int
    model_id: str
    trained: bool
    mode: Mode
    records: int
    persons: int
    new_persons: int
    merges: int
    splits: int
    reviews_new: int


@dataclass(frozen=True)
class RunSummary(RunDetails):
    """The run as ``identity_runs.summary`` keeps it: its details and what writing it found."""

    reviews_pending: int
    events_linked: int
    counterparts_linked: int


@dataclass(frozen=True)
class Delta:
    """A run over part of the records (decision 0305): the records and persons the store
    holds in all before it, and the highest event id it read (later events are placed)."""

    records: int
    persons_before: int
    through: int
    changed: list[bool] | None = None
    """Per record of the run: new, moved to another person, or named by a new event. Only
    these rows are written and looked at for ``event_persons`` (decision 0306): the others
    are the stored rows, read back unchanged."""


def next_person_number(store: Store) -> int:
    top = value(
        store.con,
        "SELECT max(TRY_CAST(substr(person_id, ?) AS BIGINT)) FROM persons "
        "WHERE starts_with(person_id, ?)",
        [len(PERSON_PREFIX) + 1, PERSON_PREFIX],
    )
    return int(top or 0) + 1


def changes(
    assignment: Assignment,
    outcome: Outcome,
    previous: Sequence[str | None],
    index: Mapping[str, int],
) -> list[Change]:
    """Merges and splits, each with the links that caused it."""
    by_person = {
        assignment.person_of_cluster[label]: links for label, links in outcome.evidence.items()
    }
    found: list[Change] = []
    for target, olds in sorted(assignment.merges.items()):
        involved = {target, *olds}
        links = [
            link
            for link in by_person.get(target, [])
            if previous[index[link["record_l"]]] in involved
            or previous[index[link["record_r"]]] in involved
        ]
        evidence = {"reason": "new links join their records", "links": links}
        found.append(Change("merge", target, sorted(olds), evidence))
    for old, targets in sorted(assignment.splits.items()):
        reason = (
            "the links that joined these records no longer hold "
            "(a rejected review, a conflict, or a retrained model)"
        )
        found.append(Change("split", old, sorted(targets), {"reason": reason}))
    return found


def _next_id(tx: duckdb.DuckDBPyConnection, column: str, table: str) -> int:
    return int(value(tx, f"SELECT coalesce(max({column}), 0) + 1 FROM {table}"))


_KEPT = ("first_seen_at", "origin", *FEATURES, "id_sex")  # besides person_id


def _write_changed_records(tx: duckdb.DuckDBPyConnection, full: bool) -> None:
    """Make ``identity_records`` the run's records (``credo_new_records``), writing only the
    rows that changed: a record id digests the record's identity columns, so a kept record can
    only have moved to another person, seen its first event or origin change, or lack the
    features an older run did not keep; a row that did none of these is not rewritten (at 1M
    records rewriting the table was most of an incremental run, and readers of unchanged rows
    see the same row versions). Only a ``full`` run's records are all the records: it deletes
    the rows of records that are gone."""
    if full:
        tx.execute(
            "DELETE FROM identity_records o WHERE NOT EXISTS "
            "(SELECT 1 FROM credo_new_records n WHERE n.record_id = o.record_id)"
        )
    # a run over part of the records reads known records' features back as stored, and
    # known records named by new events are updated below: only a person can differ, and
    # reading one column of every row instead of ten is most of this update at 1M records
    kept = ("person_id", *_KEPT) if full else ("person_id",)
    sets = ", ".join(f"{c} = n.{c}" for c in kept)
    differs = " OR ".join(f"identity_records.{c} IS DISTINCT FROM n.{c}" for c in kept)
    tx.execute(
        f"UPDATE identity_records SET {sets} FROM credo_new_records n "
        f"WHERE identity_records.record_id = n.record_id AND ({differs})"
    )
    columns = ", ".join(("record_id", *IDENTITY_COLUMNS, "person_id", *_KEPT))
    tx.execute(
        f"INSERT INTO identity_records ({columns}) SELECT {columns} FROM credo_new_records n "
        "ANTI JOIN identity_records o USING (record_id)"
    )
    if not full:  # the records of merged persons the run did not read follow them
        tx.execute(
            "UPDATE identity_records SET person_id = m.new FROM credo_merged_into m "
            "WHERE identity_records.person_id = m.old"
        )
        # known records outside the run that new events name: an earlier first event
        tx.execute(
            "UPDATE identity_records SET first_seen_at = least(identity_records.first_seen_at, "
            "a.first_seen_at), origin = least(identity_records.origin, a.origin) "
            "FROM credo_arrivals a WHERE identity_records.record_id = a.record_id "
            "AND (a.first_seen_at < identity_records.first_seen_at "
            "OR a.origin < identity_records.origin)"
        )


@dataclass(frozen=True)
class RunFiles:
    """A full run's records (``write_records``) and their linkage features as Parquet files,
    one row per record in the records' order (decisions 0119, 0121)."""

    records: Path
    features: Path


@contextmanager
def _new_records(
    tx: duckdb.DuckDBPyConnection, records: pa.Table, files: RunFiles | None
) -> Iterator[None]:
    """The run's records with their person, id sex and linkage features as the view
    ``credo_new_records``. With ``files``, ``records`` holds only the record id, person and
    id sex: the rest is joined by position from the files in SQL, so it is never held in
    Python (decisions 0119, 0121), and a row out of step with the others is an error."""
    if files is None:
        with registered(tx, "credo_new_records", records):
            yield
        return
    run = records.select(["record_id", "person_id", "id_sex"])
    run = run.rename_columns(["run_record_id_", "person_id", "id_sex"])
    features = ", ".join(FEATURES)
    with registered(tx, "credo_run_records", run):
        tx.execute(
            "CREATE TEMP VIEW credo_new_records AS SELECT rec.*, r.person_id, r.id_sex, "
            f"r.run_record_id_, f.feature_id_, {features} "
            f"FROM read_parquet({quoted_path(files.records)}) rec "
            "POSITIONAL JOIN credo_run_records r POSITIONAL JOIN "
            f"(SELECT record_id AS feature_id_, {features} "
            f"FROM read_parquet({quoted_path(files.features)})) f"
        )
        try:
            astray = value(
                tx,
                "SELECT count(*) FROM credo_new_records WHERE record_id IS NULL OR run_record_id_ "
                "IS DISTINCT FROM record_id OR feature_id_ IS DISTINCT FROM record_id",
            )
            if astray:
                raise ValueError(f"{astray} rows of the run's files are out of step")
            yield
        finally:
            tx.execute("DROP VIEW credo_new_records")


def _write_records_and_links(
    tx: duckdb.DuckDBPyConnection,
    records: pa.Table,
    files: RunFiles | None,
    links: pa.Table | Path,
    mode: Mode,
    run_id: int,
    model_id: str,
    every_record: bool,
    merged_into: pa.Table,
) -> None:
    with (
        _new_records(tx, records, files),
        registered(tx, "credo_merged_into", merged_into),
    ):
        _write_changed_records(tx, every_record)
    if mode == "full":  # an incremental run only adds to the stored spanning forest
        tx.execute("DELETE FROM identity_links")
    insert_links = (
        "INSERT INTO identity_links SELECT record_l, record_r, rule, match_weight, "
        "comparisons, ?, ? FROM "
    )
    if isinstance(links, Path):  # written by a full run (decision 0119)
        tx.execute(insert_links + f"read_parquet({quoted_path(links)})", [model_id, run_id])
        return
    with registered(tx, "credo_new_links", links):
        tx.execute(insert_links + "credo_new_links", [model_id, run_id])


def _insert_numbered(
    tx: duckdb.DuckDBPyConnection, table: str, column: str, items: list[dict[str, Any]]
) -> None:
    """Insert ``items``, numbering ``column`` on from the highest number ``table`` holds."""
    first = _next_id(tx, column, table)
    insert_many(tx, table, [{column: first + k, **item} for k, item in enumerate(items)])


def _review_rows(
    new_reviews: list[NewReview], model_id: str, now: dt.datetime
) -> list[dict[str, Any]]:
    return [
        {
            "record_l": r.record_l,
            "record_r": r.record_r,
            "reason": r.reason,
            "match_weight": r.match_weight,
            "comparisons": json.dumps(r.comparisons) if r.comparisons else None,
            "model_id": model_id,
            "status": "pending",
            "created_at": now,
        }
        for r in new_reviews
    ]


def _write_persons(tx: duckdb.DuckDBPyConnection, assignment: Assignment, now: dt.datetime) -> None:
    insert_many(
        tx,
        "persons",
        [{"person_id": p, "created_at": now, "status": "active"} for p in assignment.new_persons],
    )
    if assignment.retired:
        tx.executemany(
            "UPDATE persons SET status = 'merged' WHERE person_id = ?",
            [[p] for p in assignment.retired],
        )


def _change_rows(found: list[Change], run_id: int, now: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "kind": c.kind,
            "person_id": c.person_id,
            "other_person_ids": c.others,
            "evidence": json.dumps(c.evidence),
            "changed_at": now,
        }
        for c in found
    ]


def _write_run_log(
    tx: duckdb.DuckDBPyConnection, summary: RunSummary, started_at: dt.datetime, seen: Seen
) -> None:
    insert(
        tx,
        "identity_runs",
        {
            "run_id": summary.run_id,
            "started_at": started_at,
            "finished_at": utcnow(),
            "model_id": summary.model_id,
            "trained": summary.trained,
            # how far the run read the events: where the next incremental run starts
            "summary": json.dumps(
                {
                    **asdict(summary),
                    "events_through": seen.through,
                    "events_counted": seen.counted,
                    "features_version": seen.features_version,
                }
            ),
        },
    )


def _merged_into(assignment: Assignment) -> pa.Table:
    """Each merged person (old) and the one it was merged into (new)."""
    return pa.table(
        {
            "old": [old for target, olds in assignment.merges.items() for old in olds],
            "new": [target for target, olds in assignment.merges.items() for _ in olds],
        },
        schema=pa.schema([("old", pa.string()), ("new", pa.string())]),
    )


def write_run(
    store: Store,
    *,
    records: pa.Table,
    features: pa.Table | RunFiles,
    person: pa.Array,
    outcome: Outcome,
    found: list[Change],
    assignment: Assignment,
    model: LinkageModel,
    trained: bool,
    mode: Mode,
    started_at: dt.datetime,
    seen: Seen,
    delta: Delta | None = None,
) -> RunSummary:
    """Write the run (``person``: each record's person id, as ``persons_of`` gives them;
    ``features``: each record's linkage features; or ``RunFiles``, the records' and their
    features' files) with its audit
    entry. ``delta``: the run worked on part of the records (decision 0305), which are so
    many in all, and placed only these events."""
    now = utcnow()
    details = RunDetails(
        run_id=_next_id(store.con, "run_id", "identity_runs"),
        model_id=model.model_id,
        trained=trained,
        mode=mode,
        records=records.num_rows if delta is None else delta.records,
        persons=pc.count_distinct(person).as_py()
        if delta is None
        else delta.persons_before + len(assignment.new_persons) - len(assignment.retired),
        new_persons=len(assignment.new_persons),
        merges=sum(len(v) for v in assignment.merges.values()),
        splits=sum(len(v) for v in assignment.splits.values()),
        reviews_new=len(outcome.new_reviews),
    )
    run_id, model_id = details.run_id, details.model_id
    record_table = records.append_column("person_id", person.cast(pa.string()))
    record_table = record_table.append_column("id_sex", outcome.id_sex.cast(pa.string()))
    files = features if isinstance(features, RunFiles) else None
    if not isinstance(features, RunFiles):
        for name in FEATURES:
            record_table = record_table.append_column(name, features.column(name))
    elif delta is not None:
        raise ValueError("a run over part of the records gives its records as a table")
    if delta is not None and delta.changed is not None:
        record_table = record_table.filter(pa.array(delta.changed, pa.bool_()))
    entry = AuditEntry(
        actor=store.settings.actor,
        action="identity.resolve",
        target=None,
        purpose="identity resolution",
        details=asdict(details),
    )
    with store.write(entry) as tx:
        activate(tx, model, now)
        _write_records_and_links(
            tx, record_table, files, outcome.links, mode, run_id, model_id, delta is None,
            _merged_into(assignment),
        )  # fmt: skip
        reviews = _review_rows(outcome.new_reviews, model_id, now)
        _insert_numbered(tx, "identity_reviews", "review_id", reviews)
        _write_persons(tx, assignment, now)
        _insert_numbered(tx, "identity_changes", "change_id", _change_rows(found, run_id, now))
        if delta is None:
            events_linked, counterparts = rebuild_event_persons(tx, _merged_into(assignment), now)
        else:
            with registered(tx, "credo_new_records", record_table):
                events_linked, counterparts = place_new_events(
                    tx, _merged_into(assignment), now, delta.through
                )
        summary = RunSummary(
            **asdict(details),
            reviews_pending=int(
                value(tx, "SELECT count(*) FROM identity_reviews WHERE status = 'pending'")
            ),
            events_linked=events_linked,
            counterparts_linked=counterparts,
        )
        _write_run_log(tx, summary, started_at, seen)
    return summary
