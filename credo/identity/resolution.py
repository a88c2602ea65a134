"""``resolve``: every source record to a stable person, and ``event_persons`` rebuilt.

One run: read the distinct source records from ``events`` (retracted events give none); apply
the exact rule (the same verified national id is the same person, unless dates of birth
conflict, which goes to review); score blocked pairs with the Fellegi–Sunter model; cluster
under the review decisions; carry person ids over; and write records, links, new reviews,
merges and splits, persons and ``event_persons`` in one audited transaction. A run over
unchanged data changes nothing but the run log, and a run that fails changes nothing at all.

A *full* run re-scores all records against all (blocked) records; existing persons keep their
ids because ids are carried by records, and record ids are digests of their content. An
*incremental* run (``incremental=True``) scores only the pairs that involve a new record and
clusters from the existing persons, so it can merge persons but never split or renumber them
(decision 0211). It falls back to a full run when it could differ from one in more than
the new records: no earlier run, a new or retrained model or thresholds, a record gone (its
events retracted), or a review decided since the last run (a rejection may need a split).

Scored pairs stay in the linkage connection; Python reads three numbers per pair, and the
comparison weights only of the links and review items it keeps (decision 0210).
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from credo.errors import ConfigError
from credo.identity.arrays import PersonCodes, RecordIds, origin_order
from credo.identity.cluster import assign_ids, persons_of
from credo.identity.delta import (
    FEATURES,
    Seen,
    candidates,
    events_seen,
    keep_strongest,
    last_seen,
    reindex,
    universe,
    why_not_delta,
)
from credo.identity.grouping import Outcome, cluster_and_review
from credo.identity.linkage import (
    PAIRS_TABLE,
    predict_pairs,
    quoted_path,
    score_new_pairs,
    splink_connection,
    train_model,
)
from credo.identity.linkage_model import LinkageModel
from credo.identity.records import known_name_forms, linkage_table, write_records
from credo.identity.report import Mode, ResolveReport
from credo.identity.rules import known_id_sexes
from credo.identity.stored_model import active_model, choose_model
from credo.identity.writing import (
    PERSON_PREFIX,
    Delta,
    RunFiles,
    changes,
    next_person_number,
    write_run,
)
from credo.store.db import Store, utcnow
from credo.store.rows import registered, value

__all__ = ["RELEASED_LIMIT", "WRITE_LIMIT", "PairScorer", "resolve", "write_limit"]

RELEASED_LIMIT = "512MB"
"""The store connection's memory limit while Splink's connection works (decision 0118)."""

WRITE_LIMIT = "1GB"
"""The store connection's memory limit while a full run is written (decision 0120), before
the records' key index is added to it (:func:`write_limit`)."""

INDEX_BYTES_PER_RECORD = 96
"""What the index of ``identity_records``' primary key holds in memory per record while a full
run writes the table: 407 MB for 5.3M records at 300,000 persons (77 bytes, ``duckdb_memory()``
tag ``ART_INDEX``), with a margin. DuckDB keeps such an index in memory, it does not spill, so
a fixed 1 GB could not write 17.7M records at a million persons (decision 0998)."""


def write_limit(records: int) -> str:
    """The store's limit while a full run of ``records`` records is written: ``WRITE_LIMIT``
    for the writes' joins and sorts plus the key index (decision 0998), in DuckDB's units
    (``1GB`` is 10^9 bytes). ``_store_limit`` still never raises the store's own limit."""
    return f"{1000 + -(-records * INDEX_BYTES_PER_RECORD // 10**6)}MB"


FEATURES_TABLE = "credo_features"
"""The records' linkage features in Splink's connection (``linkage_table``), with ``idx``."""

PairScorer = Callable[[duckdb.DuckDBPyConnection, pa.Table, dict[str, Any], float], int]
"""Scores the blocked pairs of the records (``con``, ``records``, the Splink model, the review
weight) into the pairs table, giving their count: another engine's (``credo.spark.identity.
spark_pair_scorer``), so identity resolution does not import the engine that runs it."""


def resolve(
    store: Store,
    *,
    train: bool = False,
    model: LinkageModel | None = None,
    match_weight: float | None = None,
    review_weight: float | None = None,
    incremental: bool = False,
    score_pairs: PairScorer | None = None,
) -> ResolveReport:
    """Resolve every source record to a person; see the module docstring. With
    ``score_pairs``, the blocked pairs are scored by another engine, e.g. Spark (a full run
    only; docs/decisions/0812)."""
    if score_pairs is not None and incremental:
        raise ConfigError("an incremental run scores its pairs on DuckDB; run a full one on Spark")
    started = time.perf_counter()
    started_at = utcnow()
    seen = events_seen(store.con)
    before = last_seen(store)
    if incremental and before is not None:
        fast = _resolve_delta(
            store, before, seen, started, started_at, train, model, match_weight, review_weight
        )
        if fast is not None:
            return fast
    with _scratch(store) as tmp:  # the run's records, features and links (0119, 0121)
        records = write_records(store.con, tmp / "records.parquet")
        ids = RecordIds(records.column("record_id"))
        index = ids.positions
        previous, gone = _previous_persons(store.con, records)
        chosen, must_train = choose_model(store, records.num_rows, train, model)
        full_because = None
        if incremental:
            full_because = _why_full(
                store, previous, gone, must_train or model is not None or train,
                match_weight is not None or review_weight is not None,
            )  # fmt: skip
        mode: Mode = "incremental" if incremental and full_because is None else "full"
        cached = before is not None  # features kept by a run of this version can be reused
        chosen, scored, outcome, features = _score_and_group(
            store,
            records,
            ids,
            index,
            previous,
            chosen,
            mode,
            started_at,
            (match_weight, review_weight),
            score_pairs,
            cached,
            tmp,
        )
        assignment = assign_ids(
            outcome.labels, previous, _numbering(store), origin_order(records.column("origin"))
        )
        person = persons_of(assignment, outcome.labels)
        with _store_limit(store, write_limit(records.num_rows)):
            summary = write_run(
                store,
                records=records,
                features=features,
                person=person,
                outcome=outcome,
                found=changes(assignment, outcome, previous, index),
                assignment=assignment,
                model=chosen,
                trained=must_train,
                mode=mode,
                started_at=started_at,
                seen=seen,
            )
        return ResolveReport(
            **asdict(summary),
            full_because=full_because,
            scored_pairs=scored,
            new_records=previous.new(),
            records_read=records.num_rows,
            rule_links=outcome.used_rules.get("national_id", 0),
            model_links=outcome.used_rules.get("model", 0),
            refused_links=outcome.refused,
            seconds=round(time.perf_counter() - started, 2),
        )


def _resolve_delta(
    store: Store,
    before: Seen,
    seen: Seen,
    started: float,
    started_at: dt.datetime,
    train: bool,
    model: LinkageModel | None,
    match_weight: float | None,
    review_weight: float | None,
) -> ResolveReport | None:
    """An incremental run over the new events' records and their neighbourhood only
    (decision 0305); None when it cannot be one (the caller then reads every record)."""
    if train or model is not None or match_weight is not None or review_weight is not None:
        return None
    chosen = active_model(store)
    if chosen is None or why_not_delta(store, before) is not None or _decided_since(store):
        return None
    counts = store.con.execute(
        "SELECT count(*), count(DISTINCT person_id) FROM identity_records"
    ).fetchall()[0]
    fresh, scored_records = candidates(store, before)
    settings = store.settings
    with splink_connection(settings.memory_limit, settings.threads, _temp_root(store)) as lcon:
        new = scored_records.column("new").to_pylist()
        features = scored_records.drop_columns(["new", "person_id", "origin"])
        scored = score_new_pairs(lcon, features, chosen.splink, chosen.review_weight, new)
        keep_strongest(
            lcon, scored_records.select(["record_id", "person_id", "origin"]), chosen.match_weight
        )
        linked = [
            r
            for (r,) in lcon.execute(
                f"SELECT record_id FROM credo_records WHERE idx IN (SELECT a FROM {PAIRS_TABLE} "
                f"UNION SELECT b FROM {PAIRS_TABLE}) ORDER BY 1"
            ).fetchall()
        ]
        u = universe(store, fresh, linked)
        reindex(lcon, u.features)
        ids: list[str] = u.records.column("record_id").to_pylist()
        index = {r: i for i, r in enumerate(ids)}
        outcome = cluster_and_review(
            store, lcon, u.records, ids, index, u.previous, chosen.match_weight,
            "incremental", known=u.known, outside=u.outside,
        )  # fmt: skip
    origins = u.records.column("origin").to_pylist()
    assignment = assign_ids(outcome.labels, u.previous, _numbering(store), origins, u.weights)
    person = persons_of(assignment, outcome.labels)
    changed = [  # new, moved, or named by new events: the rows to write
        old is None or old != now or record in u.arrivals
        for old, now, record in zip(u.previous, person.to_pylist(), ids, strict=True)
    ]
    summary = write_run(
        store,
        records=u.records,
        features=u.features,
        person=person,
        outcome=outcome,
        found=changes(assignment, outcome, u.previous, index),
        assignment=assignment,
        model=chosen,
        trained=False,
        mode="incremental",
        started_at=started_at,
        seen=seen,
        delta=Delta(int(counts[0]) + u.new_records, int(counts[1]), before.through, changed),
    )
    return ResolveReport(
        **asdict(summary),
        full_because=None,
        scored_pairs=scored,
        new_records=u.new_records,
        records_read=u.records.num_rows,
        rule_links=outcome.used_rules.get("national_id", 0),
        model_links=outcome.used_rules.get("model", 0),
        refused_links=outcome.refused,
        seconds=round(time.perf_counter() - started, 2),
    )


def _score_and_group(
    store: Store,
    records: pa.Table,
    ids: Sequence[str],
    index: Mapping[str, int],
    previous: Sequence[str | None],
    chosen: LinkageModel | None,
    mode: Mode,
    started_at: dt.datetime,
    thresholds: tuple[float | None, float | None],
    score_pairs: PairScorer | None = None,
    cached: bool = False,
    scratch: Path | None = None,
) -> tuple[LinkageModel, int, Outcome, RunFiles]:
    """Train if there is no model, score the blocked pairs and group the records: the model
    used (with the ``thresholds`` given, match and review), the pairs scored, the outcome and
    the records' linkage features, as a Parquet file in ``scratch`` (as are the outcome's
    links: decision 0119). ``cached``: name forms and verified ids that an earlier run kept
    are read, not computed again."""
    if scratch is None:
        raise ValueError("a full run writes its features and links to a scratch folder")
    settings = store.settings
    forms = known_name_forms(store.con) if cached else None
    known = known_id_sexes(store) if cached else None
    features = scratch / "features.parquet"
    with (
        _store_limit(store, RELEASED_LIMIT),
        splink_connection(settings.memory_limit, settings.threads, _temp_root(store)) as lcon,
    ):
        linkage_table(lcon, FEATURES_TABLE, scratch / "records.parquet", forms)
        del forms
        if chosen is None:
            chosen = LinkageModel(
                train_model(lcon, FEATURES_TABLE, sample_ids=records.column("origin")),
                trained_at=started_at.isoformat(timespec="seconds"),
                trained_on_records=records.num_rows,
            )
        chosen = _with_thresholds(chosen, *thresholds)
        new = [p is None for p in previous] if mode == "incremental" else None
        if score_pairs is None:
            scored = predict_pairs(
                lcon, FEATURES_TABLE, chosen.splink, chosen.review_weight, new=new
            )
        else:
            frame = lcon.sql(f"SELECT * EXCLUDE (idx) FROM {FEATURES_TABLE} ORDER BY idx")
            scored = score_pairs(lcon, frame.to_arrow_table(), chosen.splink, chosen.review_weight)
        lcon.execute(
            f"COPY (SELECT record_id, {', '.join(FEATURES)} FROM {FEATURES_TABLE} ORDER BY idx) "
            f"TO {quoted_path(features)} (FORMAT parquet)"
        )
        lcon.execute(f"DROP TABLE {FEATURES_TABLE}")
        outcome = cluster_and_review(
            store, lcon, records, ids, index, previous, chosen.match_weight, mode, known=known,
            links_to=scratch / "links.parquet",
        )  # fmt: skip
    return chosen, scored, outcome, RunFiles(scratch / "records.parquet", features)


@contextmanager
def _store_limit(store: Store, limit: str) -> Iterator[None]:
    """The store's connection under the memory ``limit`` for the block (never above its own).

    While Splink's connection scores pairs (``RELEASED_LIMIT``), lowering the limit evicts the
    pages the store cached reading the records, so the two engines are never both full (each
    may take ``memory_limit``; decision 0118); the store's queries meanwhile are small ones
    (the review queue, the vault's national ids). While the run is written (``WRITE_LIMIT``),
    it keeps the store's engine from refilling to its full limit on top of what the run holds
    (decision 0120): the writes' joins and sorts spill to the store's temporary folder."""
    own = store.limit_bytes()
    try:
        store.con.execute(f"SET memory_limit = '{limit}'")
    except duckdb.Error:  # pages it cannot evict now: the run goes on with both engines full
        yield
        return
    try:
        if store.limit_bytes() > own:
            store.con.execute(f"SET memory_limit = '{store.settings.memory_limit}'")
        yield
    finally:
        store.con.execute(f"SET memory_limit = '{store.settings.memory_limit}'")


def _with_thresholds(
    model: LinkageModel, match_weight: float | None, review_weight: float | None
) -> LinkageModel:
    """``model`` with the thresholds given for this run (the model's own where not given)."""
    if match_weight is None and review_weight is None:
        return model
    return model.with_thresholds(
        model.match_weight if match_weight is None else match_weight,
        model.review_weight if review_weight is None else review_weight,
    )


def _numbering(store: Store) -> Callable[[], str]:
    """New person ids, numbered on from the highest the store has given."""
    numbers = itertools.count(next_person_number(store))
    return lambda: f"{PERSON_PREFIX}{next(numbers):09d}"


@contextmanager
def _scratch(store: Store) -> Iterator[Path]:
    """A folder for the run's features and links (decision 0119), under the store's spill
    folder, removed when the run ends."""
    root = _temp_root(store)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="credo-resolve-", dir=root) as tmp:
        yield Path(tmp)


def _temp_root(store: Store) -> Path:
    """Splink spills where the store spills (``temp_directory``, default beside the db)."""
    s = store.settings
    return s.temp_directory or s.db.parent / (s.db.name + ".tmp")


def _previous_persons(con: duckdb.DuckDBPyConnection, records: pa.Table) -> tuple[PersonCodes, int]:
    """Each record's person from the last run (None: new), and how many old records are gone."""
    k = pa.array(np.arange(records.num_rows, dtype=np.int64))
    current = pa.table({"record_id": records.column("record_id"), "k": k})
    with registered(con, "credo_current_ids", current):
        previous = PersonCodes(
            con.sql(
                "SELECT i.person_id FROM credo_current_ids c "
                "LEFT JOIN identity_records i USING (record_id) ORDER BY c.k"
            )
            .to_arrow_table()
            .column("person_id")
        )
        gone = int(
            value(
                con,
                "SELECT count(*) FROM identity_records ANTI JOIN credo_current_ids "
                "USING (record_id)",
            )
        )
    return previous, gone


def _why_full(
    store: Store, previous: PersonCodes, gone: int, new_model: bool, new_thresholds: bool
) -> str | None:
    """Why an incremental run cannot equal a full one (None: it can)."""
    if previous.new() == len(previous):
        return "no earlier run"
    if new_model:
        return "a new or retrained model"
    if new_thresholds:
        return "thresholds given"
    if gone:
        return f"{gone} earlier record(s) gone (their events were retracted)"
    decided = _decided_since(store)
    if decided:
        return f"{decided} review(s) decided since the last run"
    return None


def _decided_since(store: Store) -> int:
    """Review decisions taken since the last run started."""
    return int(
        value(
            store.con,
            "SELECT count(*) FROM identity_reviews WHERE decided_at >= "
            "(SELECT max(started_at) FROM identity_runs)",
        )
    )
