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
import json
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from credo.errors import ConfigError, NotFoundError
from credo.identifiers import is_valid_gb11643
from credo.identity.cluster import Assignment, Edge, assign_ids, cluster
from credo.identity.linkage import (
    COMPARISONS,
    PAIRS_TABLE,
    comparisons_json_sql,
    predict_pairs,
    splink_connection,
    train_model,
)
from credo.identity.model import LinkageModel
from credo.identity.records import event_record_key_sql, linkage_frame, load_records
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow

__all__ = [
    "ResolveReport",
    "active_model",
    "export_model",
    "resolve",
]

PERSON_PREFIX = "CP"
MIN_TRAINING_RECORDS = 200


Mode = Literal["full", "incremental"]
Weights = dict[tuple[int, int], dict[str, float]]
NewReview = tuple[str, str, str, float | None, dict[str, float] | None]
CONFLICT_REASON = "same verified national id"


@dataclass(frozen=True)
class ResolveReport:
    run_id: int
    model_id: str
    trained: bool
    mode: Mode
    full_because: str | None  # why a full run ran where an incremental one was asked for
    scored_pairs: int
    records: int
    new_records: int
    persons: int
    new_persons: int
    merges: int
    splits: int
    rule_links: int
    model_links: int
    refused_links: int
    reviews_pending: int
    reviews_new: int
    events_linked: int
    counterparts_linked: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def active_model(store: Store) -> LinkageModel | None:
    rows = store.con.execute(
        "SELECT model_id, model FROM identity_models WHERE active ORDER BY saved_at DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    return LinkageModel.from_json(rows[0][1], f"stored model {rows[0][0]}")


def export_model(store: Store, path: Path) -> str:
    model = active_model(store)
    if model is None:
        raise NotFoundError("no linkage model yet", hint="run 'credo resolve' first")
    model.save(path)
    return model.model_id


def _verified_ids(store: Store, hashes: list[str]) -> set[str]:
    """Hashes whose number passes the GB 11643 check digit (decrypted from the vault once)."""
    if not hashes:
        return set()
    store.con.register("credo_nid_hashes", pa.table({"hash": pa.array(hashes, pa.string())}))
    try:
        rows = store.con.execute(
            "SELECT v.hash, any_value(v.ciphertext) FROM pii_vault v "
            "JOIN credo_nid_hashes h USING (hash) WHERE v.kind = 'national_id' GROUP BY v.hash"
        ).fetchall()
    finally:
        store.con.unregister("credo_nid_hashes")
    decrypt = store.keys.decrypt
    return {h for h, blob in rows if is_valid_gb11643(decrypt("national_id", bytes(blob)))}


def _dob_class(d: dt.date) -> tuple[int, int, int]:
    """Dates equal up to a day/month swap share a class: a swap is a typo, not a conflict."""
    a, b = sorted((d.month, d.day))
    return (d.year, a, b)


def _national_id_rule(
    store: Store, records: pa.Table, index: dict[str, int]
) -> tuple[list[Edge], list[tuple[int, int]]]:
    """Links by verified national id; pairs whose dates of birth conflict go to review."""
    groups: dict[str, list[tuple[int, dt.date | None]]] = defaultdict(list)
    for rid, nid, dob in zip(
        records.column("record_id").to_pylist(),
        records.column("national_id_hash").to_pylist(),
        records.column("birth_date").to_pylist(),
        strict=True,
    ):
        if nid is not None:
            groups[nid].append((index[rid], dob))
    shared = sorted(h for h, members in groups.items() if len(members) > 1)
    verified = _verified_ids(store, shared)
    edges: list[Edge] = []
    conflicts: list[tuple[int, int]] = []
    for h in shared:
        if h not in verified:
            continue
        by_class: dict[tuple[int, int, int] | None, list[int]] = defaultdict(list)
        for i, dob in groups[h]:
            by_class[_dob_class(dob) if dob is not None else None].append(i)
        dated = sorted((sorted(v) for k, v in by_class.items() if k is not None), key=min)
        for members in dated:  # records agreeing on the date (or a swap of it)
            edges += [Edge(members[0], j, "national_id", math.inf) for j in members[1:]]
        if len(dated) == 1 and None in by_class:  # undated records join the only date
            edges += [Edge(dated[0][0], j, "national_id", math.inf) for j in by_class[None]]
        elif not dated:
            members = sorted(by_class[None])
            edges += [Edge(members[0], j, "national_id", math.inf) for j in members[1:]]
        conflicts += [(dated[k][0], dated[k + 1][0]) for k in range(len(dated) - 1)]
    return edges, conflicts


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _load_model(store: Store, records: int, train: bool, model: LinkageModel | None) -> Any:
    if model is not None:
        return model, False
    current = active_model(store)
    if current is not None and not train:
        return current, False
    if records < MIN_TRAINING_RECORDS:
        raise ConfigError(
            f"only {records} source records: too few to train a linkage model "
            f"(at least {MIN_TRAINING_RECORDS})",
            hint="load more data, or give a trained model with --model",
        )
    return None, True


def resolve(
    store: Store,
    *,
    train: bool = False,
    model: LinkageModel | None = None,
    match_weight: float | None = None,
    review_weight: float | None = None,
    incremental: bool = False,
) -> ResolveReport:
    """Resolve every source record to a person; see the module docstring."""
    started = time.perf_counter()
    started_at = utcnow()
    con = store.con
    records = load_records(con)
    n = records.num_rows
    ids: list[str] = records.column("record_id").to_pylist()
    index = {r: i for i, r in enumerate(ids)}
    previous, gone = _previous_persons(con, records)
    chosen, must_train = _load_model(store, n, train, model)
    full_because = None
    if incremental:
        full_because = _why_full(
            store, previous, gone, must_train or model is not None or train,
            match_weight is not None or review_weight is not None,
        )  # fmt: skip
    mode: Mode = "incremental" if incremental and full_because is None else "full"
    settings = store.settings
    with splink_connection(settings.memory_limit, settings.threads, _temp_root(store)) as lcon:
        features = linkage_frame(lcon, records)
        if must_train:
            chosen = LinkageModel(
                train_model(lcon, features),
                trained_at=started_at.isoformat(timespec="seconds"),
                trained_on_records=n,
            )
        assert chosen is not None
        if match_weight is not None or review_weight is not None:
            chosen = chosen.with_thresholds(
                chosen.match_weight if match_weight is None else match_weight,
                chosen.review_weight if review_weight is None else review_weight,
            )
        new = [p is None for p in previous] if mode == "incremental" else None
        scored = predict_pairs(lcon, features, chosen.splink, chosen.review_weight, new=new)
        del features
        outcome = _cluster_and_review(store, lcon, records, ids, index, previous, chosen, mode)
    model_id = chosen.model_id
    next_no = _next_person_number(store)

    def new_id() -> str:
        nonlocal next_no
        pid = f"{PERSON_PREFIX}{next_no:09d}"
        next_no += 1
        return pid

    assignment = assign_ids(outcome.labels, previous, new_id)
    person = [assignment.person_of_cluster[lab] for lab in outcome.labels]
    changes = _changes(assignment, outcome, previous, index)
    summary = _write(
        store,
        records=records,
        person=person,
        links=outcome.links,
        new_reviews=outcome.new_reviews,
        changes=changes,
        assignment=assignment,
        model=chosen,
        model_id=model_id,
        trained=must_train,
        mode=mode,
        started_at=started_at,
    )
    used = outcome.used_rules
    return ResolveReport(
        run_id=summary["run_id"],
        model_id=model_id,
        trained=must_train,
        mode=mode,
        full_because=full_because,
        scored_pairs=scored,
        records=n,
        new_records=sum(p is None for p in previous),
        persons=len(set(person)),
        new_persons=len(assignment.new_persons),
        merges=sum(len(v) for v in assignment.merges.values()),
        splits=sum(len(v) for v in assignment.splits.values()),
        rule_links=used.get("national_id", 0),
        model_links=used.get("model", 0),
        refused_links=outcome.refused,
        reviews_pending=summary["reviews_pending"],
        reviews_new=len(outcome.new_reviews),
        events_linked=summary["events_linked"],
        counterparts_linked=summary["counterparts_linked"],
        seconds=round(time.perf_counter() - started, 2),
    )


def _temp_root(store: Store) -> Path:
    """Splink spills where the store spills (``temp_directory``, default beside the db)."""
    s = store.settings
    return s.temp_directory or s.db.parent / (s.db.name + ".tmp")


def _previous_persons(
    con: duckdb.DuckDBPyConnection, records: pa.Table
) -> tuple[list[str | None], int]:
    """Each record's person from the last run (None: new), and how many old records are gone."""
    con.register(
        "credo_current_ids",
        pa.table({"record_id": records.column("record_id"), "k": range(records.num_rows)}),
    )
    try:
        previous: list[str | None] = (
            con.sql(
                "SELECT i.person_id FROM credo_current_ids c "
                "LEFT JOIN identity_records i USING (record_id) ORDER BY c.k"
            )
            .to_arrow_table()
            .column(0)
            .to_pylist()
        )
        gone = int(
            con.execute(
                "SELECT count(*) FROM identity_records ANTI JOIN credo_current_ids "
                "USING (record_id)"
            ).fetchall()[0][0]
        )
    finally:
        con.unregister("credo_current_ids")
    return previous, gone


def _why_full(
    store: Store, previous: list[str | None], gone: int, new_model: bool, new_thresholds: bool
) -> str | None:
    """Why an incremental run cannot equal a full one (None: it can)."""
    if not any(p is not None for p in previous):
        return "no earlier run"
    if new_model:
        return "a new or retrained model"
    if new_thresholds:
        return "thresholds given"
    if gone:
        return f"{gone} earlier record(s) gone (their events were retracted)"
    decided = store.scalar(
        "SELECT count(*) FROM identity_reviews WHERE decided_at >= "
        "(SELECT max(started_at) FROM identity_runs)"
    )
    if decided:
        return f"{decided} review(s) decided since the last run"
    return None


@dataclass
class _Outcome:
    labels: list[int]
    links: pa.Table  # the spanning forest's new links, ready for identity_links
    used_rules: dict[str, int]
    refused: int
    new_reviews: list[NewReview]
    evidence: dict[int, list[dict[str, Any]]]  # cluster label -> links that joined persons


def _model_edges(lcon: duckdb.DuckDBPyConnection, threshold: float) -> Iterator[Edge]:
    """Model links strongest first (ties by record index, so by record id), in batches."""
    reader: pa.RecordBatchReader = lcon.sql(
        f"SELECT a, b, match_weight FROM {PAIRS_TABLE} "
        f"WHERE match_weight >= {float(threshold)!r} ORDER BY match_weight DESC, a, b"
    ).to_arrow_reader(1 << 16)
    for batch in reader:
        a, b, w = (batch.column(k).to_numpy() for k in range(3))
        for x, y, z in zip(a.tolist(), b.tolist(), w.tolist(), strict=True):
            yield Edge(x, y, "model", z)


def _comparison_weights(lcon: duckdb.DuckDBPyConnection, keys: set[tuple[int, int]]) -> Weights:
    """The per-comparison match weights of these pairs (a < b), for the few kept in Python."""
    if not keys:
        return {}
    ordered = sorted(keys)
    lcon.register(
        "credo_keys", pa.table({"a": [k[0] for k in ordered], "b": [k[1] for k in ordered]})
    )
    try:
        names = ", ".join(f"p.mw_{c.name}" for c in COMPARISONS)
        rows = lcon.execute(
            f"SELECT p.a, p.b, {names} FROM {PAIRS_TABLE} p JOIN credo_keys k USING (a, b)"
        ).fetchall()
    finally:
        lcon.unregister("credo_keys")
    return {
        (int(r[0]), int(r[1])): {
            c.name: round(float(w), 4) for c, w in zip(COMPARISONS, r[2:], strict=True)
        }
        for r in rows
    }


def _cluster_and_review(
    store: Store,
    lcon: duckdb.DuckDBPyConnection,
    records: pa.Table,
    ids: list[str],
    index: dict[str, int],
    previous: list[str | None],
    chosen: LinkageModel,
    mode: Mode,
) -> _Outcome:
    """Cluster under the review decisions; new review items; the links, as evidence."""
    n = len(ids)
    con = store.con
    rule_edges, conflicts = _national_id_rule(store, records, index)
    reviews = con.execute(
        "SELECT review_id, record_l, record_r, reason, status FROM identity_reviews"
    ).fetchall()
    decided = {(l_, r_): status for _id, l_, r_, _reason, status in reviews}
    conflict_reviews = {
        (l_, r_) for _id, l_, r_, reason, _s in reviews if reason.startswith(CONFLICT_REASON)
    }
    accepted = [
        Edge(index[l_], index[r_], "review", math.inf)
        for (l_, r_), s in sorted(decided.items())
        if s == "accepted" and l_ in index and r_ in index
    ]
    cannot = [
        (index[l_], index[r_])
        for (l_, r_), s in decided.items()
        if (s == "rejected" or (s == "pending" and (l_, r_) in conflict_reviews))
        and l_ in index
        and r_ in index
    ]
    conflict_pairs = [_ordered(ids[a], ids[b]) for a, b in conflicts]
    cannot += [(index[a], index[b]) for a, b in conflict_pairs if decided.get((a, b)) != "accepted"]
    groups: list[list[int]] = []
    if mode == "incremental":
        members: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(previous):
            if p is not None:
                members[p].append(i)
        groups = [members[p] for p in sorted(members)]
    clustering = cluster(
        n,
        _chain(accepted, rule_edges, _model_edges(lcon, chosen.match_weight)),
        cannot,
        groups,
    )
    labels = clustering.labels

    # New review items: one per pair of persons, the strongest record pair between them.
    covered = {
        (min(labels[index[l_]], labels[index[r_]]), max(labels[index[l_]], labels[index[r_]]))
        for (l_, r_) in decided
        if l_ in index and r_ in index
    }
    band = lcon.execute(
        f"SELECT a, b, match_weight FROM {PAIRS_TABLE} WHERE match_weight < ? "
        "ORDER BY match_weight DESC, a, b",
        [chosen.match_weight],
    ).fetchall()
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for a, b, w in band:
        la, lb = labels[a], labels[b]
        key = (min(la, lb), max(la, lb))
        if la == lb or key in covered:
            continue
        if key not in best or w > best[key][0]:
            best[key] = (w, a, b)
    del band
    review_pairs = sorted(best.values(), key=lambda t: (-t[0], t[1], t[2]))
    fresh_conflicts = [(a, b) for a, b in conflict_pairs if (a, b) not in decided]

    # Evidence of merges and splits: the links whose records had different previous persons
    # (a new record that joins two persons links to both of them, so it is evidence too);
    # at most 50 kept per surviving person.
    changed: dict[int, list[Edge]] = defaultdict(list)
    for e in clustering.used:
        if previous[e.left] != previous[e.right] and len(changed[labels[e.left]]) < 50:
            changed[labels[e.left]].append(e)
    wanted = {(min(e.left, e.right), max(e.left, e.right)) for v in changed.values() for e in v}
    wanted |= {(a, b) for _w, a, b in review_pairs}
    wanted |= {tuple(sorted((index[a], index[b]))) for a, b in fresh_conflicts}  # type: ignore[misc]
    weights = _comparison_weights(lcon, wanted)

    new_reviews: list[NewReview] = []
    for w, a, b in review_pairs:
        rec_l, rec_r = _ordered(ids[a], ids[b])
        new_reviews.append(
            (rec_l, rec_r, "model weight below the match threshold", w, weights.get((a, b)))
        )
    for rec_l, rec_r in fresh_conflicts:
        ia, ib = index[rec_l], index[rec_r]
        new_reviews.append(
            (
                rec_l,
                rec_r,
                f"{CONFLICT_REASON}, conflicting dates of birth",
                None,
                weights.get((min(ia, ib), max(ia, ib))),
            )
        )
    evidence = {
        label: [_link_dict(e, ids, weights) for e in edges] for label, edges in changed.items()
    }
    used_rules: dict[str, int] = defaultdict(int)
    for e in clustering.used:
        used_rules[e.rule] += 1
    return _Outcome(
        labels=labels,
        links=_link_table(lcon, clustering.used),
        used_rules=dict(used_rules),
        refused=len(clustering.refused),
        new_reviews=new_reviews,
        evidence=evidence,
    )


def _chain(*parts: Any) -> Iterator[Edge]:
    for part in parts:
        yield from part


def _link_table(lcon: duckdb.DuckDBPyConnection, used: list[Edge]) -> pa.Table:
    """The links as ``identity_links`` rows, their comparison weights joined in SQL."""
    lcon.register(
        "credo_used",
        pa.table(
            {
                "k": range(len(used)),
                "a": pa.array([e.left for e in used], pa.int32()),
                "b": pa.array([e.right for e in used], pa.int32()),
                "rule": [e.rule for e in used],
                "match_weight": [None if math.isinf(e.weight) else e.weight for e in used],
            }
        ),
    )
    try:
        table: pa.Table = lcon.sql(
            "SELECT l.record_id AS record_l, r.record_id AS record_r, u.rule, "
            f"u.match_weight::DOUBLE AS match_weight, {comparisons_json_sql('p')} AS comparisons "
            "FROM credo_used u JOIN credo_records l ON l.idx = u.a "
            "JOIN credo_records r ON r.idx = u.b "
            f"LEFT JOIN {PAIRS_TABLE} p ON p.a = least(u.a, u.b) AND p.b = greatest(u.a, u.b) "
            "ORDER BY u.k"
        ).to_arrow_table()
    finally:
        lcon.unregister("credo_used")
    return table


def _changes(
    assignment: Assignment,
    outcome: _Outcome,
    previous: list[str | None],
    index: dict[str, int],
) -> list[tuple[str, str, list[str], dict[str, Any]]]:
    """Merges and splits as ``identity_changes`` rows, each with the links that caused it."""
    by_person = {
        assignment.person_of_cluster[label]: links for label, links in outcome.evidence.items()
    }
    changes: list[tuple[str, str, list[str], dict[str, Any]]] = []
    for target, olds in sorted(assignment.merges.items()):
        involved = {target, *olds}
        links = [
            link
            for link in by_person.get(target, [])
            if previous[index[link["record_l"]]] in involved
            or previous[index[link["record_r"]]] in involved
        ]
        changes.append(
            ("merge", target, sorted(olds), {"reason": "new links join their records",
                                             "links": links})
        )  # fmt: skip
    for old, targets in sorted(assignment.splits.items()):
        changes.append(
            (
                "split",
                old,
                sorted(targets),
                {
                    "reason": "the links that joined these records no longer hold "
                    "(a rejected review, a conflict, or a retrained model)"
                },
            )
        )
    return changes


def _next_person_number(store: Store) -> int:
    top = store.scalar(
        "SELECT max(TRY_CAST(substr(person_id, ?) AS BIGINT)) FROM persons "
        "WHERE starts_with(person_id, ?)",
        [len(PERSON_PREFIX) + 1, PERSON_PREFIX],
    )
    return int(top or 0) + 1


def _write(
    store: Store,
    *,
    records: pa.Table,
    person: list[str],
    links: pa.Table,
    new_reviews: list[NewReview],
    changes: list[tuple[str, str, list[str], dict[str, Any]]],
    assignment: Assignment,
    model: LinkageModel,
    model_id: str,
    trained: bool,
    mode: Mode,
    started_at: dt.datetime,
) -> dict[str, Any]:
    now = utcnow()
    run_id = int(store.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM identity_runs"))
    record_table = records.append_column("person_id", pa.array(person, pa.string()))
    merged_into = pa.table(
        {
            "old": [old for target, olds in assignment.merges.items() for old in olds],
            "new": [target for target, olds in assignment.merges.items() for _ in olds],
        },
        schema=pa.schema([("old", pa.string()), ("new", pa.string())]),
    )
    details = {
        "run_id": run_id,
        "model_id": model_id,
        "trained": trained,
        "mode": mode,
        "records": records.num_rows,
        "persons": len(set(person)),
        "new_persons": len(assignment.new_persons),
        "merges": sum(len(v) for v in assignment.merges.values()),
        "splits": sum(len(v) for v in assignment.splits.values()),
        "reviews_new": len(new_reviews),
    }
    entry = AuditEntry(
        actor=store.settings.actor,
        action="identity.resolve",
        target=None,
        purpose="identity resolution",
        details=details,
    )
    with store.write(entry) as tx:
        known = tx.execute(
            "SELECT count(*) FROM identity_models WHERE model_id = ?", [model_id]
        ).fetchall()[0][0]
        if not known:
            tx.execute("UPDATE identity_models SET active = false WHERE active")
            tx.execute(
                "INSERT INTO identity_models VALUES (?, ?, ?, ?, ?, true)",
                [model_id, model.settings_version, model.to_json(), model.trained_at, now],
            )
        else:
            tx.execute("UPDATE identity_models SET active = (model_id = ?)", [model_id])
        tx.register("credo_new_records", record_table)
        tx.execute("DELETE FROM identity_records")
        tx.execute(
            "INSERT INTO identity_records SELECT record_id, source, subject_ref, name, "
            "birth_date, sex, national_id_hash, phone_hash, address, first_seen_at, person_id "
            "FROM credo_new_records"
        )
        tx.unregister("credo_new_records")
        tx.register("credo_new_links", links)
        if mode == "full":  # an incremental run only adds to the stored spanning forest
            tx.execute("DELETE FROM identity_links")
        tx.execute(
            "INSERT INTO identity_links SELECT record_l, record_r, rule, match_weight, "
            "comparisons, ?, ? FROM credo_new_links",
            [model_id, run_id],
        )
        tx.unregister("credo_new_links")
        next_review = int(
            tx.execute("SELECT coalesce(max(review_id), 0) + 1 FROM identity_reviews").fetchall()[
                0
            ][0]
        )
        if new_reviews:
            tx.executemany(
                "INSERT INTO identity_reviews VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL, "
                "NULL, NULL)",
                [
                    [
                        next_review + k,
                        a,
                        b,
                        reason,
                        w,
                        json.dumps(cw) if cw else None,
                        model_id,
                        now,
                    ]
                    for k, (a, b, reason, w, cw) in enumerate(new_reviews)
                ],
            )
        if assignment.new_persons:
            tx.executemany(
                "INSERT INTO persons (person_id, created_at, status) VALUES (?, ?, 'active')",
                [[p, now] for p in assignment.new_persons],
            )
        if assignment.retired:
            tx.executemany(
                "UPDATE persons SET status = 'merged' WHERE person_id = ?",
                [[p] for p in assignment.retired],
            )
        next_change = int(
            tx.execute("SELECT coalesce(max(change_id), 0) + 1 FROM identity_changes").fetchall()[
                0
            ][0]
        )
        if changes:
            tx.executemany(
                "INSERT INTO identity_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    [next_change + k, run_id, kind, pid, others, json.dumps(ev), now]
                    for k, (kind, pid, others, ev) in enumerate(changes)
                ],
            )
        tx.register("credo_merged_into", merged_into)
        events_linked, counterparts = _rebuild_event_persons(tx, now)
        tx.unregister("credo_merged_into")
        pending = int(
            tx.execute("SELECT count(*) FROM identity_reviews WHERE status = 'pending'").fetchall()[
                0
            ][0]
        )
        summary = {
            **details,
            "reviews_pending": pending,
            "events_linked": events_linked,
            "counterparts_linked": counterparts,
        }
        tx.execute(
            "INSERT INTO identity_runs VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, started_at, utcnow(), model_id, trained, json.dumps(summary)],
        )
    return summary


def _link_dict(e: Edge, ids: list[str], weights: Weights) -> dict[str, Any]:
    return {
        "record_l": ids[e.left],
        "record_r": ids[e.right],
        "rule": e.rule,
        "match_weight": None if math.isinf(e.weight) else round(e.weight, 4),
        "comparisons": weights.get((min(e.left, e.right), max(e.left, e.right))),
    }


def _rebuild_event_persons(tx: Any, now: dt.datetime) -> tuple[int, int]:
    """Make ``event_persons`` the current resolution, keeping unchanged rows.

    An event the resolution does not place as a subject keeps the subject it has, moved to
    the survivor if that person was merged (``credo_merged_into``): events the service wrote
    for a known person carry no identity fields, and a retracted event stays on the file of
    the person it was about, marked corrected, without linking anyone."""
    key = event_record_key_sql("e")
    tx.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE credo_ep AS
        WITH subjects AS (
            SELECT e.event_id, 'subject' AS role, r.person_id
            FROM events e JOIN identity_records r ON r.record_id = {key}
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
    )
    tx.execute(
        "DELETE FROM event_persons o WHERE NOT EXISTS (SELECT 1 FROM credo_ep n "
        "WHERE n.event_id = o.event_id AND n.role = o.role AND n.person_id = o.person_id) "
        "AND (o.role <> 'subject' OR EXISTS (SELECT 1 FROM credo_ep n "
        "WHERE n.event_id = o.event_id AND n.role = 'subject'))"
    )
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
    return int(counts.get("subject", 0)), int(counts.get("counterpart", 0))
