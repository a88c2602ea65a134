"""The clustering's per-record structures as arrays give exactly what their Python lists gave
(decision 0128): the union-find's roots, the national-id rule's links, conflicts, traits and
id sexes, the links' order, and the carried-over person ids. Each reference below is the code
these replaced, kept here to compare against."""

from __future__ import annotations

import datetime as dt
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import count
from typing import Any, cast

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.identity.arrays import TraitColumns
from credo.identity.cluster import (
    Assignment,
    Edge,
    Links,
    assign_ids,
    cluster,
    in_link_order,
    link_order,
    persons_of,
    roots,
)
from credo.identity.constraints import Holdings, Traits, births_consistent
from credo.identity.grouping import _review_pairs
from credo.identity.linkage import PAIRS_TABLE
from credo.identity.rules import _one_id, national_id_rule
from credo.store.db import Store

_DATES = [dt.date(1980, 3, 4), dt.date(1980, 4, 3), dt.date(1980, 3, 5), dt.date(1991, 7, 8)]
_HASHES = ["h1", "h2", "h3", "h4"]


def _reference_find(parent: list[int], x: int) -> int:
    while parent[x] != x:
        x = parent[x]
    return x


@given(st.lists(st.integers(0, 1000), max_size=60))
def test_roots_find_every_record_as_find_does(ups: list[int]) -> None:
    parent = [i if u % 3 == 0 else u % (i + 1) for i, u in enumerate(ups)]  # a forest
    found = roots(array("i", parent))
    assert found.dtype == np.int32
    assert found.tolist() == [_reference_find(parent, i) for i in range(len(parent))]


def _reference_partition(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """A plain list union-find whose root is the group's smallest index."""
    parent = list(range(n))
    for a, b in edges:
        ra, rb = _reference_find(parent, a), _reference_find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [_reference_find(parent, i) for i in range(n)]


@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80),
            st.booleans(),
        )
    )
)
def test_array_union_find_gives_the_list_union_finds_partition(
    problem: tuple[int, list[tuple[int, int]], bool],
) -> None:
    n, edges, as_arrays = problem
    weights = [float(len(edges) - k) for k in range(len(edges))]
    left, right = [a for a, _b in edges], [b for _a, b in edges]
    links = (
        Links(np.array(left, np.int32), np.array(right, np.int32), np.array(weights))
        if as_arrays
        else Links(left, right, weights)
    )
    result = cluster(n, [links], [])
    assert result.labels.tolist() == _reference_partition(n, edges)
    assert len(result.used) == n - len(set(result.labels.tolist()))


@given(
    st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.sampled_from([math.inf, 2.5, 1.0])),
        max_size=40,
    ),
    st.permutations(list(range(10))),
)
def test_links_in_link_order_as_sorted_orders_them(
    edges: list[tuple[int, int, float]], rank: list[int]
) -> None:
    expected = sorted((Edge(a, b, "national_id", w) for a, b, w in edges), key=link_order(rank))
    links = Links(
        np.array([a for a, _b, _w in edges], np.int32),
        np.array([b for _a, b, _w in edges], np.int32),
        np.array([w for _a, _b, w in edges], np.float64),
        "national_id",
    )
    ordered = in_link_order(links, np.array(rank, np.int64))
    got = [
        Edge(a, b, ordered.rule, w)
        for left, right, weight in ordered.batches()
        for a, b, w in zip(left, right, weight, strict=True)
    ]
    assert got == expected


# The national-id rule as it was: Python lists of the three columns, a dict of groups.
_NOTHING = Traits()


def _reference_rule(
    records: pa.Table, verified: dict[str, str], rank: Sequence[int]
) -> tuple[list[Edge], list[tuple[int, int]], list[Traits], list[str | None]]:
    groups: dict[str, list[tuple[int, dt.date | None]]] = defaultdict(list)
    nids = records.column("national_id_hash").to_pylist()
    dobs = records.column("birth_date").to_pylist()
    for i, (nid, dob) in enumerate(zip(nids, dobs, strict=True)):
        if nid is not None:
            groups[nid].append((i, dob))
    edges: list[Edge] = []
    conflicts: list[tuple[int, int]] = []
    for h in sorted(groups):
        if h in verified and len(groups[h]) > 1:
            links, clashes = _one_id(groups[h], rank)
            edges += links
            conflicts += clashes
    id_sex = [verified.get(h) if h is not None else None for h in nids]
    traits = [
        Traits(nid, verified[nid], dob)
        if nid in verified
        else (Traits(None, sex, dob) if sex is not None or dob is not None else _NOTHING)
        for nid, sex, dob in zip(nids, records.column("sex").to_pylist(), dobs, strict=True)
    ]
    return edges, conflicts, traits, id_sex


_RECORD = st.tuples(
    st.one_of(st.none(), st.sampled_from(_HASHES)),
    st.one_of(st.none(), st.sampled_from(["F", "M"])),
    st.one_of(st.none(), st.sampled_from(_DATES)),
)


@given(
    st.lists(_RECORD, max_size=30),
    st.dictionaries(st.sampled_from(_HASHES), st.sampled_from(["F", "M", None])),
    st.randoms(use_true_random=False),
)
def test_national_id_rule_in_columns_gives_what_the_lists_gave(
    rows: list[tuple[str | None, str | None, dt.date | None]],
    known: dict[str, str | None],
    random: Any,
) -> None:
    known = {h: known.get(h) for h in _HASHES}  # every id answered: no vault is read
    rank = list(range(len(rows)))
    random.shuffle(rank)
    records = pa.table(
        {
            "national_id_hash": pa.array([r[0] for r in rows], pa.string()),
            "sex": pa.array([r[1] for r in rows], pa.string()),
            "birth_date": pa.array([r[2] for r in rows], pa.date32()),
        }
    )
    verified = {h: s for h, s in known.items() if s}
    edges, conflicts, traits, id_sex = _reference_rule(records, verified, rank)
    rule = national_id_rule(cast(Store, None), records, known, np.array(rank, np.int64))
    got = [
        Edge(a, b, rule.edges.rule, w)
        for left, right, weight in rule.edges.batches()
        for a, b, w in zip(left, right, weight, strict=True)
    ]
    assert got == edges
    assert sorted(got, key=link_order(rank)) == [
        Edge(a, b, "national_id", w)
        for left, right, weight in in_link_order(rule.edges, rank).batches()
        for a, b, w in zip(left, right, weight, strict=True)
    ]
    assert rule.conflicts == conflicts
    assert list(rule.traits) == traits and rule.traits[0:3] == traits[0:3]
    assert rule.id_sex.to_pylist() == id_sex


def test_trait_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="trait columns"):
        TraitColumns(np.zeros(2, np.int32), pa.array(["h"]), pa.array(["F"]), pa.array([None]))


# ``assign_ids`` as it was: a Counter of votes per label, dicts of first origins.
def _reference_assign(
    labels: Sequence[int],
    previous: Sequence[str | None],
    new_id: Callable[[], str],
    origins: Sequence[str] | None,
    weights: Sequence[int] | None,
) -> Assignment:
    votes: dict[int, Counter[str]] = defaultdict(Counter)
    for label, old, weight in zip(labels, previous, weights or [1] * len(labels), strict=True):
        if old is not None:
            votes[label][old] += weight
    candidates = sorted(
        ((c, old, label) for label, v in votes.items() for old, c in v.items()),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    person_of_cluster: dict[int, str] = {}
    kept: set[str] = set()
    for _c, old, label in candidates:
        if old not in kept and label not in person_of_cluster:
            person_of_cluster[label] = old
            kept.add(old)
    if origins is None:
        numbering = sorted(set(labels))
    else:
        first: dict[int, str] = {}
        for label, origin in zip(labels, origins, strict=True):
            if label not in first or origin < first[label]:
                first[label] = origin
        numbering = sorted(first, key=lambda label: (first[label], label))
    new_persons: list[str] = []
    for label in numbering:
        if label not in person_of_cluster:
            person_of_cluster[label] = new_id()
            new_persons.append(person_of_cluster[label])
    merges: dict[str, list[str]] = defaultdict(list)
    splits: dict[str, list[str]] = defaultdict(list)
    every_old = sorted({old for v in votes.values() for old in v})
    retired = [old for old in every_old if old not in kept]
    for label, v in sorted(votes.items()):
        target = person_of_cluster[label]
        for old in sorted(v):
            if old == target:
                continue
            if old in kept:
                splits[old].append(target)
            else:
                merges[target].append(old)
    return Assignment(person_of_cluster, new_persons, dict(merges), dict(splits), retired)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.one_of(st.none(), st.sampled_from(["CP1", "CP2", "CP10", "CP3", "é"])),
            st.sampled_from(["a", "b", "ab", "é", "z"]),
            st.integers(1, 3),
        ),
        max_size=40,
    ),
    st.booleans(),
    st.booleans(),
    st.sampled_from([0, 0, 1000, -7]),
)
def test_assign_ids_in_arrays_gives_what_the_counters_gave(
    rows: list[tuple[int, str | None, str, int]], by_origin: bool, weighted: bool, shift: int
) -> None:
    """Labels are record indexes in a run; shifted, they are any ints."""
    labels = [min(i for i, r in enumerate(rows) if r[0] == group) + shift for group, *_ in rows]
    previous = [r[1] for r in rows]
    origins = [r[2] for r in rows] if by_origin else None
    weights = [r[3] for r in rows] if weighted else None
    numbers, again = count(), count()
    got = assign_ids(np.array(labels, np.int32), previous, lambda: f"N{next(numbers)}", origins,
                     weights)  # fmt: skip
    expected = _reference_assign(labels, previous, lambda: f"N{next(again)}", origins, weights)
    assert got == expected
    assert persons_of(got, np.array(labels, np.int32)).to_pylist() == [
        expected.person_of_cluster[label] for label in labels
    ]


def test_a_label_without_a_person_is_refused() -> None:
    assignment = assign_ids([0, 0, 2], [None, None, None], iter(["P1", "P2"]).__next__)
    with pytest.raises(ValueError, match="no person"):
        persons_of(assignment, np.array([0, 1, 2], np.int32))


def _reference_review_pairs(
    found: list[tuple[int, int, float]],
    labels: list[int],
    decided: dict[tuple[str, str], str],
    index: dict[str, int],
) -> list[tuple[float, int, int]]:
    """``_review_pairs`` as it was, over the rows its query returns, in their order."""

    def key(a: int, b: int) -> tuple[int, int]:
        return (min(a, b), max(a, b))

    covered = {key(labels[index[l_]], labels[index[r_]]) for (l_, r_) in decided}
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for a, b, w in found:
        la, lb = labels[a], labels[b]
        k = key(la, lb)
        if la == lb or k in covered:
            continue
        if k not in best or w > best[k][0]:
            best[k] = (w, a, b)
    return sorted(best.values(), key=lambda t: (-t[0], t[1], t[2]))


@given(
    st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, n - 1), min_size=n, max_size=n),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    st.sampled_from([-3.0, 0.5, 1.25, 4.0, 9.0]),
                ),
                max_size=40,
            ),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3),
            st.permutations(list(range(n))),
        )
    )
)
def test_review_pairs_in_numpy_as_in_a_dict(
    problem: tuple[list[int], list[tuple[int, int, float]], list[tuple[int, int]], list[int]],
) -> None:
    groups, scored, decided_pairs, rank = problem
    n = len(groups)
    labels = [min(i for i in range(n) if groups[i] == groups[j]) for j in range(n)]
    pairs = {(min(a, b), max(a, b)): w for a, b, w in scored if a != b}
    ids = [f"r{i:02d}" for i in range(n)]
    index = {r: i for i, r in enumerate(ids)}
    decided = {(ids[a], ids[b]): "rejected" for a, b in decided_pairs}
    with duckdb.connect() as con:
        got = _review_pairs_of(con, pairs, rank, labels, decided, index)
    found = sorted(
        ((a, b, w) for (a, b), w in pairs.items() if w < 4.0),
        key=lambda t: (-t[2], min(rank[t[0]], rank[t[1]]), max(rank[t[0]], rank[t[1]])),
    )
    assert got == _reference_review_pairs(found, labels, decided, index)


def _review_pairs_of(
    con: duckdb.DuckDBPyConnection,
    pairs: dict[tuple[int, int], float],
    rank: list[int],
    labels: list[int],
    decided: dict[tuple[str, str], str],
    index: dict[str, int],
) -> list[tuple[float, int, int]]:
    """``_review_pairs`` over ``pairs`` as the scored pairs table, threshold 4."""
    n = len(rank)
    table = pa.table(
        {
            "a": pa.array([k[0] for k in pairs], pa.int32()),
            "b": pa.array([k[1] for k in pairs], pa.int32()),
            "match_weight": pa.array(list(pairs.values()), pa.float64()),
        }
    )
    con.register("pairs_arrow", table)
    con.execute(f"CREATE TABLE {PAIRS_TABLE} AS SELECT * FROM pairs_arrow")
    ranks = pa.table({"idx": pa.array(range(n), pa.int32()), "rank": pa.array(rank, pa.int64())})
    con.register("rank_arrow", ranks)
    con.execute("CREATE TABLE credo_rank AS SELECT * FROM rank_arrow")
    return _review_pairs(con, np.array(labels, np.int32), decided, index, 4.0)


def _reference_clash(left: list[Traits], right: list[Traits], ids_only: bool) -> str | None:
    """``Holdings.clash`` as it was, on three sets per group."""

    def sets(group: list[Traits]) -> tuple[set[Any], set[Any], set[Any]]:
        return (
            {t.national_id for t in group if t.national_id is not None},
            {t.sex for t in group if t.sex is not None},
            {t.birth for t in group if t.birth is not None},
        )

    (ia, sa, ba), (ib, sb, bb) = sets(left), sets(right)
    if ia and ib and ia != ib:
        return "different verified national ids"
    if ids_only:
        return None
    if sa and sb and sa != sb:
        return "different sexes"
    if ba and bb and not births_consistent(ba | bb):
        return "dates of birth differ beyond a typo"
    return None


_TRAIT = st.builds(
    Traits,
    st.one_of(st.none(), st.sampled_from(_HASHES[:2])),
    st.one_of(st.none(), st.sampled_from(["F", "M"])),
    st.one_of(st.none(), st.sampled_from(_DATES)),
)


@given(st.lists(_TRAIT, min_size=1, max_size=6), st.lists(_TRAIT, min_size=1, max_size=6),
       st.booleans())  # fmt: skip
def test_holdings_in_tuples_clash_as_the_sets_did(
    left: list[Traits], right: list[Traits], ids_only: bool
) -> None:
    def held(group: list[Traits]) -> Holdings:
        h = Holdings(group[0])
        for t in group[1:]:
            h.absorb(Holdings(t))
        return h

    a, b = held(left), held(right)
    assert a.clash(b, ids_only=ids_only) == _reference_clash(left, right, ids_only)
    assert bool(a) == any(t != Traits() for t in left)
    a.absorb(b)
    assert a.ids == tuple(sorted({t.national_id for t in left + right} - {None}))
