"""Records into persons, under the review decisions; the new review items; the evidence.

The clustering (``cluster.py``) takes accepted reviews, the national-id rule's links, then the
model's links strongest first (equal weights in the order of the records' origins, never of
their keyed ids), refusing any link that would join records a decision, a conflicting date of
birth or a contradiction (two verified ids, two sexes: ``constraints.py``) keeps apart.
Pairs scored below the match threshold become review items, one per pair of persons (the
strongest record pair between them). The links that joined records of different earlier
persons are kept, with their comparison weights, as the evidence of merges. Scored pairs
stay in the linkage connection (decision 0210).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from credo.identity.arrays import PersonCodes, origin_ranks
from credo.identity.cluster import (
    Clustering,
    Edge,
    EdgeList,
    Labels,
    Links,
    cluster,
    in_link_order,
    link_order,
)
from credo.identity.linkage import COMPARISONS, PAIRS_TABLE, comparisons_json_sql, quoted_path
from credo.identity.report import Mode
from credo.identity.rules import CONFLICT_REASON, national_id_rule
from credo.store.db import Store
from credo.store.rows import registered, rows

__all__ = ["NewReview", "Outcome", "Outside", "cluster_and_review"]

Weights = dict[tuple[int, int], dict[str, float]]
Pair = tuple[int, int]
EVIDENCE_PER_PERSON = 50


@dataclass(frozen=True)
class NewReview:
    """A review item this run adds (``identity_reviews``, pending)."""

    record_l: str
    record_r: str
    reason: str
    match_weight: float | None
    comparisons: dict[str, float] | None


@dataclass
class Outcome:
    labels: Labels  # per record: its cluster's smallest record index
    links: pa.Table | Path  # the spanning forest's new links, ready for identity_links
    # (a Path: a Parquet file of them, which a full run writes rather than hold them)
    used_rules: dict[str, int]
    refused: int
    new_reviews: list[NewReview]
    evidence: dict[int, list[dict[str, Any]]]  # cluster label -> links that joined persons
    id_sex: pa.Array  # per record: the sex its verified national id states, else null


@dataclass(frozen=True)
class Outside:
    """What records outside an incremental run's universe say to the sole-holder phase
    (decision 0305): names that a person outside holds, and the indexes of records whose
    address a person outside holds. Either makes "the one person" not the only one."""

    held_names: list[str]
    held_addresses: list[int]


@dataclass(frozen=True)
class _Decisions:
    """The review queue as the clustering reads it."""

    decided: dict[tuple[str, str], str]  # (record_l, record_r) -> status
    accepted: list[Edge]
    cannot: list[Pair]  # record pairs never to be joined, by index
    fresh_conflicts: list[tuple[str, str]]  # date conflicts not yet in the queue


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _key(a: int, b: int) -> Pair:
    return (min(a, b), max(a, b))


def _decisions(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    index: Mapping[str, int],
    conflicts: list[Pair],
) -> _Decisions:
    """Accepted pairs link; rejected ones, pending conflicts and new conflicts cannot."""
    reviews = rows(
        con, "SELECT review_id, record_l, record_r, reason, status FROM identity_reviews"
    )
    decided = {(r["record_l"], r["record_r"]): r["status"] for r in reviews}
    conflict_reviews = {
        (r["record_l"], r["record_r"]) for r in reviews if r["reason"].startswith(CONFLICT_REASON)
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
    fresh = [(a, b) for a, b in conflict_pairs if (a, b) not in decided]
    return _Decisions(decided, accepted, cannot, fresh)


def _model_edges(
    lcon: duckdb.DuckDBPyConnection, threshold: float, rank: npt.NDArray[np.int64]
) -> Iterator[Links]:
    """Model links strongest first, ties by the records' ranks (``link_order``), in batches."""
    ranks = pa.table({"idx": pa.array(np.arange(len(rank), dtype=np.int32)), "rank": rank})
    with registered(lcon, "credo_rank_arrow", ranks):
        lcon.execute("CREATE OR REPLACE TEMP TABLE credo_rank AS SELECT * FROM credo_rank_arrow")
    reader: pa.RecordBatchReader = lcon.sql(
        f"SELECT p.a, p.b, p.match_weight FROM {PAIRS_TABLE} p "
        "JOIN credo_rank ra ON ra.idx = p.a JOIN credo_rank rb ON rb.idx = p.b "
        f"WHERE p.match_weight >= {float(threshold)!r} "
        "ORDER BY p.match_weight DESC, least(ra.rank, rb.rank), greatest(ra.rank, rb.rank)"
    ).to_arrow_reader(1 << 16)
    for batch in reader:
        a, b, w = (batch.column(n).to_numpy().tolist() for n in ("a", "b", "match_weight"))
        yield Links(a, b, w)


# A record "says nothing but a name" when it has no national id, phone, date of birth or
# address (a utility bill or payment with the other fields blank).
_NAME_ONLY = (
    "national_id_hash IS NULL AND phone_hash IS NULL AND birth_date IS NULL "
    "AND address_norm IS NULL"
)


_NAME_AND_ADDRESS = (
    "national_id_hash IS NULL AND phone_hash IS NULL AND birth_date IS NULL "
    "AND address_norm IS NOT NULL"
)


def _sole_name_edges(
    lcon: duckdb.DuckDBPyConnection,
    labels: Labels | Sequence[int],
    outside: Outside | None = None,
) -> list[Edge]:
    """Groups of records that say little join the one person they can be; none when two or
    more persons could be meant.

    Pairwise, a name alone never reaches the match threshold (a namesake is as likely as the
    person), nor does an address with a mistyped name (a household shares it). After
    clustering the question is another: *which* person could this be. When exactly one
    person can, it is that person or someone the bureau has never seen otherwise (measured in
    ``benchmarks/linkage/README.md``, decision 0303):

    - a group whose records carry nothing but a name joins the one person whose other records
      carry that name as written;
    - a group whose records carry a name and an address, nothing else, joins the one person
      holding that address (or a shortened form of it), when a name of that person is as
      close as the model's weakest name level (pinyin Jaro-Winkler >= 0.80).

    Each group joins through its first record (by origin) and the holder's first record.
    ``outside``: in an incremental run, the names and addresses that persons outside the
    records at hand hold (a second holder, so no sole holder)."""
    table = pa.table(
        {
            "idx": pa.array(np.arange(len(labels), dtype=np.int32)),
            "label": pa.array(np.asarray(labels, dtype=np.int64)),
        }
    )
    out = outside or Outside([], [])
    held_names = pa.table({"name": pa.array(out.held_names, pa.string())})
    held_addresses = pa.table({"idx": pa.array(out.held_addresses, pa.int32())})
    lcon.register("credo_outside_names", held_names)
    lcon.register("credo_outside_addresses", held_addresses)
    with registered(lcon, "credo_labels", table):
        lcon.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE credo_named AS
            SELECT c.idx, l.label, c.name_exact, c.name_key, c.name_ordered, c.address_norm,
                   right(c.address_norm, 8) AS address_end, k.rank, ({_NAME_ONLY}) AS name_only,
                   ({_NAME_AND_ADDRESS}) AS name_and_address
            FROM credo_records c JOIN credo_labels l USING (idx) JOIN credo_rank k USING (idx)
            """
        )
    found = lcon.execute(
        """
        WITH weak AS (SELECT label FROM credo_named GROUP BY label HAVING bool_and(name_only)),
        held AS (
            SELECT name_exact AS name, count(DISTINCT label) AS holders,
                   min(label) AS holder, arg_min(idx, rank) AS first
            FROM credo_named ANTI JOIN weak USING (label)
            WHERE name_exact IS NOT NULL GROUP BY name_exact
            UNION ALL  -- a person outside holds it too: never the sole holder
            SELECT name, 2, -1, NULL FROM credo_outside_names
        ),
        asking AS (
            SELECT n.label, n.idx, n.rank, h.holders, h.holder, h.first
            FROM credo_named n SEMI JOIN weak USING (label) JOIN held h ON h.name = n.name_exact
        )
        SELECT arg_min(idx, rank) AS a, arg_min(first, rank) AS b
        FROM asking GROUP BY label
        HAVING max(holders) = 1 AND count(DISTINCT holder) = 1
        ORDER BY min(rank)
        """
    ).fetchall()
    found += lcon.execute(
        """
        WITH weak AS (
            SELECT label FROM credo_named GROUP BY label HAVING bool_and(name_and_address)
        ),
        strong AS (SELECT * FROM credo_named ANTI JOIN weak USING (label)),
        asking AS (  -- each weak record with the persons holding its address
            SELECT w.label, w.idx, w.rank, w.name_key, w.name_ordered, s.label AS holder
            FROM credo_named w SEMI JOIN weak USING (label)
            JOIN strong s ON s.address_end = w.address_end
             AND length(s.address_norm) >= 8 AND length(w.address_norm) >= 8
             AND (ends_with(s.address_norm, w.address_norm)
                  OR ends_with(w.address_norm, s.address_norm))
        ),
        alone AS (  -- groups whose address one person holds (and nobody outside)
            SELECT label, min(holder) AS holder FROM asking
            WHERE label NOT IN (SELECT n.label FROM credo_named n
                                JOIN credo_outside_addresses o USING (idx))
            GROUP BY label HAVING count(DISTINCT holder) = 1
        ),
        named AS (  -- ... and whose name is close to one of that person's names
            SELECT a.label, a.idx, a.rank, s.idx AS first, s.rank AS first_rank
            FROM asking a JOIN alone USING (label) JOIN strong s ON s.label = alone.holder
            WHERE s.name_key IS NOT NULL AND a.name_key IS NOT NULL
              AND greatest(jaro_winkler_similarity(a.name_key, s.name_key),
                           jaro_winkler_similarity(a.name_ordered, s.name_ordered)) >= 0.80
        )
        SELECT arg_min(idx, rank) AS a, arg_min(first, first_rank) AS b
        FROM named GROUP BY label ORDER BY min(rank)
        """
    ).fetchall()
    lcon.execute("DROP TABLE credo_named")
    lcon.unregister("credo_outside_names")
    lcon.unregister("credo_outside_addresses")
    return [Edge(int(a), int(b), "sole_name", math.inf) for a, b in found]


def _chain(*parts: Any) -> Iterator[Edge | Links]:
    for part in parts:
        yield from part


def _previous_groups(previous: Sequence[str | None]) -> list[list[int]]:
    """The records of each earlier person, which an incremental run keeps together."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(previous):
        if p is not None:
            members[p].append(i)
    return [members[p] for p in sorted(members)]


def _review_pairs(
    lcon: duckdb.DuckDBPyConnection,
    labels: Labels,
    decided: dict[tuple[str, str], str],
    index: Mapping[str, int],
    match_weight: float,
) -> list[tuple[float, int, int]]:
    """One (weight, a, b) per pair of persons below the match threshold not yet decided: the
    first of its record pairs in the order below, which is its strongest.

    The pairs are read as three numpy columns, 16 bytes a pair, and grouped in numpy: as one
    Python tuple each they took about 150 bytes a pair, and there are about as many pairs
    below the threshold as records (decision 0128)."""
    n = max(len(labels), 1)
    covered = np.array(
        sorted(
            {
                min(la, lb) * n + max(la, lb)
                for (l_, r_) in decided
                if l_ in index and r_ in index
                for la, lb in [(int(labels[index[l_]]), int(labels[index[r_]]))]
            }
        ),
        dtype=np.int64,
    )
    # equal weights in the order of the records' origins, not of their (keyed) ids
    found: pa.Table = lcon.sql(
        f"SELECT p.a, p.b, p.match_weight FROM {PAIRS_TABLE} p "
        "JOIN credo_rank ra ON ra.idx = p.a JOIN credo_rank rb ON rb.idx = p.b "
        "WHERE p.match_weight < ? "
        "ORDER BY p.match_weight DESC, least(ra.rank, rb.rank), greatest(ra.rank, rb.rank)",
        params=[match_weight],
    ).to_arrow_table()
    a = found.column("a").to_numpy().astype(np.int64)
    b = found.column("b").to_numpy().astype(np.int64)
    w = found.column("match_weight").to_numpy()
    del found
    la, lb = labels[a].astype(np.int64), labels[b].astype(np.int64)
    key = np.minimum(la, lb) * n + np.maximum(la, lb)
    keep = np.flatnonzero((la != lb) & ~np.isin(key, covered))
    _, first = np.unique(key[keep], return_index=True)  # each person pair's first row
    rows = keep[first]
    rows = rows[np.lexsort((b[rows], a[rows], -w[rows]))]
    return list(zip(w[rows].tolist(), a[rows].tolist(), b[rows].tolist(), strict=True))


def _changed(clustering: Clustering, previous: Sequence[str | None]) -> dict[int, list[Edge]]:
    """Links whose records had different earlier persons, at most 50 per surviving person.

    A new record that joins two persons links to both of them, so it is evidence too. The
    links are compared in numpy, by the earlier persons' codes, and an ``Edge`` is made only
    for those whose persons differ."""
    labels = clustering.labels
    used = clustering.used
    codes = _person_codes(previous)
    left = np.frombuffer(used.left, np.int32) if len(used) else np.empty(0, np.int32)
    right = np.frombuffer(used.right, np.int32) if len(used) else np.empty(0, np.int32)
    changed: dict[int, list[Edge]] = defaultdict(list)
    for k in np.flatnonzero(codes[left] != codes[right]).tolist():
        e = used[k]
        label = int(labels[e.left])
        if len(changed[label]) < EVIDENCE_PER_PERSON:
            changed[label].append(e)
    return changed


def _person_codes(previous: Sequence[str | None]) -> npt.NDArray[np.int32]:
    """Each record's earlier person as an int32 code (-1: none); equal persons, equal codes."""
    if not isinstance(previous, PersonCodes):
        previous = PersonCodes(pa.array(list(previous), pa.string()))
    codes: npt.NDArray[np.int32] = previous.codes
    return codes


def _comparison_weights(lcon: duckdb.DuckDBPyConnection, keys: set[Pair]) -> Weights:
    """The per-comparison match weights of these pairs (a < b), for the few kept in Python."""
    if not keys:
        return {}
    ordered = sorted(keys)
    wanted = pa.table({"a": [k[0] for k in ordered], "b": [k[1] for k in ordered]})
    names = ", ".join(f"p.mw_{c.name}" for c in COMPARISONS)
    with registered(lcon, "credo_keys", wanted):
        found = rows(
            lcon, f"SELECT p.a, p.b, {names} FROM {PAIRS_TABLE} p JOIN credo_keys k USING (a, b)"
        )
    return {
        (int(r["a"]), int(r["b"])): {
            c.name: round(float(r[f"mw_{c.name}"]), 4) for c in COMPARISONS
        }
        for r in found
    }


def _new_reviews(
    review_pairs: list[tuple[float, int, int]],
    fresh_conflicts: list[tuple[str, str]],
    ids: Sequence[str],
    index: Mapping[str, int],
    weights: Weights,
) -> list[NewReview]:
    """Model pairs below the match threshold first, then new date-of-birth conflicts."""
    new_reviews = []
    for w, a, b in review_pairs:
        rec_l, rec_r = _ordered(ids[a], ids[b])
        new_reviews.append(
            NewReview(
                rec_l, rec_r, "model weight below the match threshold", w, weights.get((a, b))
            )
        )
    for rec_l, rec_r in fresh_conflicts:
        reason = f"{CONFLICT_REASON}, conflicting dates of birth"
        key = _key(index[rec_l], index[rec_r])
        new_reviews.append(NewReview(rec_l, rec_r, reason, None, weights.get(key)))
    return new_reviews


def _link_dict(e: Edge, ids: Sequence[str], weights: Weights) -> dict[str, Any]:
    return {
        "record_l": ids[e.left],
        "record_r": ids[e.right],
        "rule": e.rule,
        "match_weight": None if math.isinf(e.weight) else round(e.weight, 4),
        "comparisons": weights.get(_key(e.left, e.right)),
    }


def _link_table(
    lcon: duckdb.DuckDBPyConnection, used: EdgeList, to: Path | None = None
) -> pa.Table | Path:
    """The links as ``identity_links`` rows, their comparison weights joined in SQL; written
    to the Parquet file ``to`` when given (decision 0119), and its path returned."""
    weight = np.asarray(used.weight, dtype=np.float64)
    edges = pa.table(
        {
            "k": pa.array(np.arange(len(used), dtype=np.int64)),
            "a": pa.array(np.asarray(used.left, dtype=np.int32)),
            "b": pa.array(np.asarray(used.right, dtype=np.int32)),
            "rule": pa.array(used.rules(), pa.string()),
            "match_weight": pa.array(weight, pa.float64(), mask=np.isinf(weight)),
        }
    )
    sql = (
        "SELECT l.record_id AS record_l, r.record_id AS record_r, u.rule, "
        "u.match_weight::DOUBLE AS match_weight, "
        f"CASE WHEN p.a IS NOT NULL THEN {comparisons_json_sql('p')} END AS comparisons "
        "FROM credo_used u JOIN credo_records l ON l.idx = u.a "
        "JOIN credo_records r ON r.idx = u.b "
        f"LEFT JOIN {PAIRS_TABLE} p ON p.a = least(u.a, u.b) AND p.b = greatest(u.a, u.b) "
        "ORDER BY u.k"
    )
    with registered(lcon, "credo_used", edges):
        if to is not None:
            lcon.execute(f"COPY ({sql}) TO {quoted_path(to)} (FORMAT parquet)")
            return to
        table: pa.Table = lcon.sql(sql).to_arrow_table()
    return table


def cluster_and_review(
    store: Store,
    lcon: duckdb.DuckDBPyConnection,
    records: pa.Table,
    ids: Sequence[str],
    index: Mapping[str, int],
    previous: Sequence[str | None],
    match_weight: float,
    mode: Mode,
    known: dict[str, str | None] | None = None,
    outside: Outside | None = None,
    links_to: Path | None = None,
) -> Outcome:
    """Cluster under the review decisions; new review items; the links, as evidence.
    ``known``: the national ids earlier runs verified; ``outside``: see ``Outside``;
    ``links_to``: a Parquet file to write the links to, in place of an Arrow table."""
    rank = origin_ranks(records.column("origin"))
    rule = national_id_rule(store, records, known, rank)
    decisions = _decisions(store.con, ids, index, rule.conflicts)
    groups = _previous_groups(previous) if mode == "incremental" else []
    order = link_order(rank)
    edges = _chain(
        sorted(decisions.accepted, key=order),
        [in_link_order(rule.edges, rank)],
        _model_edges(lcon, match_weight, rank),
    )
    clustering = cluster(
        len(ids),
        edges,
        decisions.cannot,
        groups,
        rule.traits,
        then=lambda labels: _sole_name_edges(lcon, labels, outside),
    )
    labels = clustering.labels
    review_pairs = _review_pairs(lcon, labels, decisions.decided, index, match_weight)
    changed = _changed(clustering, previous)
    wanted = {_key(e.left, e.right) for v in changed.values() for e in v}
    wanted |= {(a, b) for _w, a, b in review_pairs}
    wanted |= {_key(index[a], index[b]) for a, b in decisions.fresh_conflicts}
    weights = _comparison_weights(lcon, wanted)
    return Outcome(
        labels=labels,
        links=_link_table(lcon, clustering.used, links_to),
        used_rules=clustering.used.rule_counts(),
        refused=len(clustering.refused),
        new_reviews=_new_reviews(review_pairs, decisions.fresh_conflicts, ids, index, weights),
        evidence={
            label: [_link_dict(e, ids, weights) for e in edges] for label, edges in changed.items()
        },
        id_sex=rule.id_sex,
    )
