"""``resolve``: every source record to a stable person, and ``event_persons`` rebuilt.

One run: read the distinct source records from ``events``; apply the exact rule (the same
verified national id is the same person, unless dates of birth conflict, which goes to
review); score blocked pairs with the Fellegi–Sunter model; cluster under the review
decisions; carry person ids over; and write records, links, new reviews, merges and splits,
persons and ``event_persons`` in one audited transaction. A run over unchanged data changes
nothing but the run log, and a run that fails changes nothing at all.

Every run re-scores all records against all (blocked) records, so an incremental load is
just another run: existing persons keep their ids because ids are carried by records, and
record ids are digests of their content.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from credo.errors import ConfigError, NotFoundError
from credo.identifiers import is_valid_gb11643
from credo.identity.cluster import Edge, assign_ids, cluster
from credo.identity.linkage import COMPARISONS, predict_pairs, splink_connection, train_model
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


@dataclass(frozen=True)
class ResolveReport:
    run_id: int
    model_id: str
    trained: bool
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
) -> ResolveReport:
    """Resolve every source record to a person; see the module docstring."""
    started = time.perf_counter()
    started_at = utcnow()
    con = store.con
    records = load_records(con)
    n = records.num_rows
    ids: list[str] = records.column("record_id").to_pylist()
    index = {r: i for i, r in enumerate(ids)}
    chosen, must_train = _load_model(store, n, train, model)
    settings = store.settings
    with splink_connection(settings.memory_limit, settings.threads) as lcon:
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
        pairs = predict_pairs(lcon, features, chosen.splink, chosen.review_weight) if n else None
    model_id = chosen.model_id

    rule_edges, conflicts = _national_id_rule(store, records, index)
    reviews = con.execute(
        "SELECT review_id, record_l, record_r, reason, status FROM identity_reviews"
    ).fetchall()
    decided = {(l_, r_): status for _id, l_, r_, _reason, status in reviews}
    accepted = [
        Edge(index[l_], index[r_], "review", math.inf)
        for (l_, r_), s in sorted(decided.items())
        if s == "accepted" and l_ in index and r_ in index
    ]
    cannot = [
        (index[l_], index[r_])
        for (l_, r_), s in decided.items()
        if (s == "rejected" or (s == "pending" and _is_conflict(reviews, l_, r_)))
        and l_ in index
        and r_ in index
    ]
    conflict_pairs = [_ordered(ids[a], ids[b]) for a, b in conflicts]
    cannot += [(index[a], index[b]) for a, b in conflict_pairs if decided.get((a, b)) != "accepted"]

    weights_of: dict[tuple[int, int], dict[str, float]] = {}
    model_edges: list[Edge] = []
    band: list[tuple[float, int, int]] = []
    if pairs is not None and pairs.num_rows:
        cols = {c: pairs.column(c).to_pylist() for c in pairs.column_names}
        mw_cols = [f"mw_{c.name}" for c in COMPARISONS]
        order = sorted(
            range(pairs.num_rows),
            key=lambda k: (
                -cols["match_weight"][k],
                cols["record_id_l"][k],
                cols["record_id_r"][k],
            ),
        )
        for k in order:
            a, b = index[cols["record_id_l"][k]], index[cols["record_id_r"][k]]
            a, b = min(a, b), max(a, b)
            w = float(cols["match_weight"][k])
            if w >= chosen.match_weight:
                model_edges.append(Edge(a, b, "model", w))
            else:
                band.append((w, a, b))
            weights_of[(a, b)] = {
                c.name: round(float(cols[m][k]), 4)
                for c, m in zip(COMPARISONS, mw_cols, strict=True)
            }
    clustering = cluster(n, [*accepted, *rule_edges, *model_edges], cannot)
    labels = clustering.labels

    # New review items: one per pair of persons, the strongest record pair between them.
    covered = {
        (min(labels[index[l_]], labels[index[r_]]), max(labels[index[l_]], labels[index[r_]]))
        for (l_, r_) in decided
        if l_ in index and r_ in index
    }
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for w, a, b in band:
        la, lb = labels[a], labels[b]
        if la == lb or (min(la, lb), max(la, lb)) in covered:
            continue
        key = (min(la, lb), max(la, lb))
        if key not in best or w > best[key][0]:
            best[key] = (w, a, b)
    new_reviews: list[tuple[str, str, str, float | None, dict[str, float] | None]] = []
    for w, a, b in sorted(best.values(), key=lambda t: (-t[0], t[1], t[2])):
        rec_l, rec_r = _ordered(ids[a], ids[b])
        new_reviews.append(
            (
                rec_l,
                rec_r,
                "model weight below the match threshold",
                w,
                weights_of.get((min(a, b), max(a, b))),
            )
        )
    for rec_l, rec_r in conflict_pairs:
        if (rec_l, rec_r) not in decided:
            ia, ib = index[rec_l], index[rec_r]
            new_reviews.append(
                (
                    rec_l,
                    rec_r,
                    "same verified national id, conflicting dates of birth",
                    None,
                    weights_of.get((min(ia, ib), max(ia, ib))),
                )
            )

    prev_rows = con.execute("SELECT record_id, person_id FROM identity_records").fetchall()
    prev = dict(prev_rows)
    previous = [prev.get(r) for r in ids]
    next_no = _next_person_number(store)

    def new_id() -> str:
        nonlocal next_no
        pid = f"{PERSON_PREFIX}{next_no:09d}"
        next_no += 1
        return pid

    assignment = assign_ids(labels, previous, new_id)
    person = [assignment.person_of_cluster[lab] for lab in labels]

    summary = _write(
        store,
        records=records,
        ids=ids,
        person=person,
        clustering_used=clustering.used,
        weights_of=weights_of,
        new_reviews=new_reviews,
        assignment=assignment,
        previous=previous,
        model=chosen,
        model_id=model_id,
        trained=must_train,
        started_at=started_at,
    )
    return ResolveReport(
        run_id=summary["run_id"],
        model_id=model_id,
        trained=must_train,
        records=n,
        new_records=sum(p is None for p in previous),
        persons=len(set(person)),
        new_persons=len(assignment.new_persons),
        merges=sum(len(v) for v in assignment.merges.values()),
        splits=sum(len(v) for v in assignment.splits.values()),
        rule_links=sum(e.rule == "national_id" for e in clustering.used),
        model_links=sum(e.rule == "model" for e in clustering.used),
        refused_links=len(clustering.refused),
        reviews_pending=summary["reviews_pending"],
        reviews_new=len(new_reviews),
        events_linked=summary["events_linked"],
        counterparts_linked=summary["counterparts_linked"],
        seconds=round(time.perf_counter() - started, 2),
    )


def _is_conflict(reviews: list[tuple[Any, ...]], left: str, right: str) -> bool:
    return any(
        r[1] == left and r[2] == right and r[3].startswith("same verified national id")
        for r in reviews
    )


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
    ids: list[str],
    person: list[str],
    clustering_used: list[Edge],
    weights_of: dict[tuple[int, int], dict[str, float]],
    new_reviews: list[tuple[str, str, str, float | None, dict[str, float] | None]],
    assignment: Any,
    previous: list[str | None],
    model: LinkageModel,
    model_id: str,
    trained: bool,
    started_at: dt.datetime,
) -> dict[str, Any]:
    now = utcnow()
    run_id = int(store.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM identity_runs"))
    # Evidence for merges and splits: the links whose two records had different previous
    # persons (or none) and now share one, grouped by the surviving person.
    # (a new record that joins two persons links to both of them, so it is evidence too)
    changed: dict[str, list[Edge]] = defaultdict(list)
    for e in clustering_used:
        pl, pr = previous[e.left], previous[e.right]
        if pl != pr:
            changed[person[e.left]].append(e)
    changes: list[tuple[str, str, list[str], dict[str, Any]]] = []
    for target, olds in sorted(assignment.merges.items()):
        involved = {target, *olds}
        links = [
            _link_dict(e, ids, weights_of)
            for e in changed.get(target, [])
            if previous[e.left] in involved or previous[e.right] in involved
        ]
        changes.append(
            (
                "merge",
                target,
                sorted(olds),
                {"reason": "new links join their records", "links": links[:50]},
            )
        )
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
    record_table = records.append_column("person_id", pa.array(person, pa.string()))
    link_rows = pa.table(
        {
            "record_l": [ids[e.left] for e in clustering_used],
            "record_r": [ids[e.right] for e in clustering_used],
            "rule": [e.rule for e in clustering_used],
            "match_weight": [None if math.isinf(e.weight) else e.weight for e in clustering_used],
            "comparisons": [
                json.dumps(weights_of[(e.left, e.right)])
                if (e.left, e.right) in weights_of
                else None
                for e in clustering_used
            ],
        }
    )
    details = {
        "run_id": run_id,
        "model_id": model_id,
        "trained": trained,
        "records": len(ids),
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
        tx.register("credo_new_links", link_rows)
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
        events_linked, counterparts = _rebuild_event_persons(tx, now)
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


def _link_dict(
    e: Edge, ids: list[str], weights_of: dict[tuple[int, int], dict[str, float]]
) -> dict[str, Any]:
    return {
        "record_l": ids[e.left],
        "record_r": ids[e.right],
        "rule": e.rule,
        "match_weight": None if math.isinf(e.weight) else round(e.weight, 4),
        "comparisons": weights_of.get((e.left, e.right)),
    }


def _rebuild_event_persons(tx: Any, now: dt.datetime) -> tuple[int, int]:
    """Make ``event_persons`` exactly the current resolution, keeping unchanged rows."""
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
        "WHERE n.event_id = o.event_id AND n.role = o.role AND n.person_id = o.person_id)"
    )
    tx.execute(
        "INSERT INTO event_persons SELECT n.event_id, n.role, n.person_id, ? FROM credo_ep n "
        "ANTI JOIN event_persons o ON o.event_id = n.event_id AND o.role = n.role",
        [now],
    )
    counts = dict(tx.execute("SELECT role, count(*) FROM credo_ep GROUP BY 1").fetchall())
    tx.execute("DROP TABLE credo_ep")
    return int(counts.get("subject", 0)), int(counts.get("counterpart", 0))
