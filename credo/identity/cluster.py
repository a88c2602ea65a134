"""Records to persons: constrained clustering, then stable person ids.

Clustering is union-find over links taken strongest first (accepted reviews, then the
national-id rule, then model links by match weight, equal weights in the order of the records'
origins), refusing any link that would join two groups holding a *cannot-link* pair (a rejected
review, records with the same national id but conflicting dates of birth awaiting review) or
two records that contradict each other (``constraints.py``: different verified national ids,
sexes, or dates of birth). Taking links in an order the data fixes makes the result the same
in any record order and under any identifier key, and checking constraints on whole groups
means a forbidden pair is never merged indirectly either — which Splink's own
connected-components clustering cannot promise (decision 0301).

Person ids are then carried over from the previous run: each old person keeps its id on the
cluster holding most of its records; a cluster no old person claims gets a new id. An old
person whose records all went to another person's cluster was *merged*; one whose records went
to several clusters was *split*. Both are reported with the links that caused them.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from credo.identity.arrays import OriginOrder, PersonCodes, Ranks, origin_order
from credo.identity.constraints import Holdings, Traits

__all__ = [
    "Assignment",
    "Clustering",
    "Edge",
    "EdgeList",
    "Labels",
    "Links",
    "assign_ids",
    "cluster",
    "in_link_order",
    "link_order",
    "persons_of",
    "roots",
]

Labels = npt.NDArray[np.int32]
"""Each record's cluster label: the smallest record index in its cluster."""


@dataclass(frozen=True, slots=True)
class Edge:
    left: int
    right: int
    rule: str  # "review", "national_id", "model" or "sole_name"
    weight: float


@dataclass(frozen=True, slots=True)
class Links:
    """Many links of one rule as three parallel lists or numpy arrays, already in order:
    millions of model links are read this way, and an ``Edge`` is made only for the few that
    join two groups or are refused (at 3.3M links one object per link was most of the
    clustering's time). Arrays are read in batches, so they never become one Python int per
    link at once."""

    left: Sequence[int] | npt.NDArray[np.integer[Any]]
    right: Sequence[int] | npt.NDArray[np.integer[Any]]
    weight: Sequence[float] | npt.NDArray[np.floating[Any]]
    rule: str = "model"

    def __len__(self) -> int:
        return len(self.left)

    def batches(self) -> Iterator[tuple[list[int], list[int], list[float]]]:
        """The links as Python lists, ``_BATCH`` at a time."""
        for start in range(0, len(self.left), _BATCH):
            end = start + _BATCH
            yield (
                _as_list(self.left[start:end]),
                _as_list(self.right[start:end]),
                _as_list(self.weight[start:end]),
            )


_BATCH = 1 << 16


def _as_list(part: Any) -> list[Any]:
    return part.tolist() if isinstance(part, np.ndarray) else list(part)


def in_link_order(links: Links, rank: Ranks) -> Links:
    """``links`` sorted as ``link_order`` sorts them (strongest first, ties by the records'
    ranks), in numpy: the national-id rule gives millions of links at a million persons, and
    a sort key tuple per link cost more than the links. The sort is stable, as ``sorted``."""
    left = np.asarray(links.left, dtype=np.int64)
    right = np.asarray(links.right, dtype=np.int64)
    weight = np.asarray(links.weight, dtype=np.float64)
    ranks = np.asarray(rank, dtype=np.int64)
    a, b = ranks[left], ranks[right]
    order = np.lexsort((np.maximum(a, b), np.minimum(a, b), -weight))
    return Links(left[order], right[order], weight[order], links.rule)


class EdgeList(Sequence[Edge]):
    """Links kept as typed arrays, 20 bytes each; an ``Edge`` is made when one is read.

    The spanning forest has nearly one link per record (17 million at a million persons):
    as ``Edge`` objects with their own floats and ints it took about 150 bytes a link."""

    def __init__(self, edges: Iterable[Edge] = ()) -> None:
        self.left = array("i")
        self.right = array("i")
        self.weight = array("d")
        self._rule = bytearray()
        self._rules: list[str] = []
        self._code: dict[str, int] = {}
        for e in edges:
            self.append(e)

    def append(self, e: Edge) -> None:
        code = self._code.get(e.rule)
        if code is None:
            code = self._code[e.rule] = len(self._rules)
            self._rules.append(e.rule)
        self.left.append(e.left)
        self.right.append(e.right)
        self.weight.append(e.weight)
        self._rule.append(code)

    def __len__(self) -> int:
        return len(self.left)

    @overload
    def __getitem__(self, i: int) -> Edge: ...
    @overload
    def __getitem__(self, i: slice) -> list[Edge]: ...
    def __getitem__(self, i: int | slice) -> Edge | list[Edge]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return Edge(self.left[i], self.right[i], self._rules[self._rule[i]], self.weight[i])

    def __iter__(self) -> Iterator[Edge]:
        rules = self._rules
        for a, b, w, r in zip(self.left, self.right, self.weight, self._rule, strict=True):
            yield Edge(a, b, rules[r], w)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(x == y for x, y in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def rules(self) -> list[str]:
        """Each link's rule (one string object per rule, shared)."""
        rules = self._rules
        return [rules[r] for r in self._rule]

    def rule_counts(self) -> dict[str, int]:
        """How many links each rule gave, in the order rules were first used."""
        counts = [0] * len(self._rules)
        for r in self._rule:
            counts[r] += 1
        return {rule: counts[k] for k, rule in enumerate(self._rules)}


@dataclass
class Clustering:
    labels: Labels  # cluster label per record: the smallest record index in its cluster
    used: EdgeList  # the links that joined two groups (a spanning forest: the evidence)
    refused: list[Edge] = field(default_factory=list)  # links a cannot-link pair blocked
    contradictions: Counter[str] = field(default_factory=Counter)  # refused, by reason


def link_order(rank: Ranks) -> Callable[[Edge], tuple[float, int, int]]:
    """Sort key of links: strongest first, ties by the records' ``rank`` (their origins' order).

    Record indexes follow record ids, which digest keyed hashes; ranks follow what the sources
    say, so equal weights are taken in the same order under any key and any input order."""

    def key(e: Edge) -> tuple[float, int, int]:
        a, b = int(rank[e.left]), int(rank[e.right])
        return (-e.weight, min(a, b), max(a, b))

    return key


class _Forest:
    """Union-find whose roots carry their group's cannot-link pairs and ``Holdings``.

    A record that has not been joined yet has its ``Holdings`` made from its traits when they
    are asked for; only the roots of joined groups keep theirs (``held``). Built for every
    record up front, they took about 0.8 KB for each record with a trait (three sets), about
    4 GB at a million persons (decision 0122)."""

    def __init__(
        self, n: int, cannot_link: Iterable[tuple[int, int]], traits: Sequence[Traits]
    ) -> None:
        # 4 bytes a record: as a list of ints, 36 (decision 0128)
        self.parent = array("i", np.arange(n, dtype=np.int32).tobytes())
        self.traits = traits
        self.joined = bytearray(n)  # 1: the record's traits are in its root's ``held``
        self.held: dict[int, Holdings] = {}
        self.forbid: dict[int, set[int]] = defaultdict(set)
        for a, b in cannot_link:
            if a != b:
                self.forbid[a].add(b)
                self.forbid[b].add(a)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        """Join two roots; the smaller index stays root, so labels are min record indexes."""
        if a < b:
            a, b = b, a
        self.parent[a] = b
        if a in self.forbid:
            self.forbid[b] |= self.forbid.pop(a)
        moved, kept = self.holdings(a), self.holdings(b)
        self.joined[a] = self.joined[b] = 1
        self.held.pop(a, None)
        if moved is not None:
            if kept is not None:
                kept.absorb(moved)
            else:
                kept = moved
        if kept is not None:
            self.held[b] = kept

    def holdings(self, root: int) -> Holdings | None:
        """The root's group's ``Holdings`` (None: its records state nothing)."""
        if self.joined[root]:
            return self.held.get(root)
        if root >= len(self.traits):
            return None
        h = Holdings(self.traits[root])
        return h if h else None

    def why_not(self, a: int, b: int, rule: str) -> str | None:
        """Why roots ``a`` and ``b`` may not be joined (None: they may). Constraints are
        symmetric, so looking from one side is enough."""
        fa = self.forbid.get(a)
        if fa and b in {self.find(x) for x in fa}:
            return "a rejected or pending pair"
        ha, hb = self.holdings(a), self.holdings(b)
        if ha is not None and hb is not None:
            return ha.clash(hb, ids_only=rule == "review")
        return None


def cluster(
    n: int,
    edges: Iterable[Edge | Links],
    cannot_link: Iterable[tuple[int, int]],
    groups: Iterable[Sequence[int]] = (),
    traits: Sequence[Traits] = (),
    then: Callable[[Labels], Iterable[Edge]] | None = None,
) -> Clustering:
    """Union-find over ``edges`` in the order given, honouring ``cannot_link`` and refusing
    any link that would join records whose ``traits`` contradict each other.

    ``groups`` are joined first, unconditionally and without evidence: an incremental run
    starts from the existing persons (whose links are already stored) and may only add to
    them; a link that would join two of them is checked like any other.

    ``then``, given the labels the edges made, yields links that depend on the whole
    clustering (a record joining the one person holding its name); they are checked the same
    way."""
    if n >= 1 << 31:
        raise ValueError(f"{n} records: the clustering indexes records as 32-bit integers")
    forest = _Forest(n, cannot_link, traits)
    find = forest.find
    for group in groups:
        for member in group[1:]:
            a, b = find(group[0]), find(member)
            if a != b:
                forest.union(a, b)
    used = EdgeList()
    refused: list[Edge] = []
    reasons: Counter[str] = Counter()

    def join(e: Edge, a: int, b: int) -> None:
        why = forest.why_not(a, b, e.rule)
        if why is not None:
            refused.append(e)
            reasons[why] += 1
        else:
            forest.union(a, b)
            used.append(e)

    def take(links: Iterable[Edge | Links]) -> None:
        parent = forest.parent
        for e in links:
            if isinstance(e, Edge):
                a, b = find(e.left), find(e.right)
                if a != b:
                    join(e, a, b)
                continue
            rule = e.rule
            for lefts, rights, weights in e.batches():
                for x, y, w in zip(lefts, rights, weights, strict=True):
                    a = x  # find, inlined with path halving: most links join one group already
                    while parent[a] != a:
                        parent[a] = parent[parent[a]]
                        a = parent[a]
                    b = y
                    while parent[b] != b:
                        parent[b] = parent[parent[b]]
                        b = parent[b]
                    if a != b:
                        join(Edge(x, y, rule, w), a, b)

    take(edges)
    if then is not None:
        take(then(roots(forest.parent)))
    return Clustering(roots(forest.parent), used, refused, reasons)


def roots(parent: array[int]) -> Labels:
    """Each record's root in the union-find's ``parent`` array: ``find`` of every record at
    once, by pointer jumping in numpy (each pass halves every path), without a Python int per
    record. ``parent`` is left as it is."""
    found: Labels = (
        np.frombuffer(parent, dtype=np.int32).copy() if len(parent) else np.empty(0, np.int32)
    )
    while True:
        up = found[found]
        if np.array_equal(up, found):
            return found
        found = up


@dataclass
class Assignment:
    person_of_cluster: dict[int, str]
    new_persons: list[str]
    merges: dict[str, list[str]]  # surviving id -> ids merged into it
    splits: dict[str, list[str]]  # old id -> ids that took some of its records
    retired: list[str]


def assign_ids(
    labels: Labels | Sequence[int],
    previous: PersonCodes | Sequence[str | None],
    new_id: Callable[[], str],
    origins: Sequence[str] | OriginOrder | None = None,
    weights: Sequence[int] | None = None,
) -> Assignment:
    """Carry person ids over from ``previous`` (per record, None for a new record).

    Each old person keeps its id on the cluster that holds most of its records (ties: the
    smaller old id, then the smaller label); the strongest claims are served first. New
    persons are numbered in the order of their first record by ``origins`` (a per-record
    name free of keyed values, decision 0213) when given, else by record index: record ids
    digest keyed hashes, so numbering by index would give the same person another id under
    another identifier key. ``weights``: how many records each record stands for (an
    incremental run reads one record for several of a person's, decision 0305).

    The per-record work is numpy's (decision 0128); Python loops over the votes (one per
    cluster and old person) and the clusters only."""
    label = np.asarray(labels)
    if label.dtype not in (np.int32, np.int64):
        label = label.astype(np.int64)
    codes = _codes(previous)
    names = previous.names if isinstance(previous, PersonCodes) else _distinct(previous)
    n = len(label)
    if (
        len(codes) != n
        or (weights is not None and len(weights) != n)
        or (origins is not None and len(origins) != n)
    ):
        raise ValueError("labels, previous persons, origins and weights differ in length")
    # the votes: (label, old person) -> records, as sorted int64 keys
    has = codes >= 0
    m = max(len(names), 1)
    key = label[has].astype(np.int64) * m + codes[has]
    if weights is None:
        key, count = np.unique(key, return_counts=True)
    else:
        key, at = np.unique(key, return_inverse=True)
        weight = np.asarray(weights, dtype=np.int64)[has]
        count = np.bincount(at.ravel(), weights=weight, minlength=len(key)).astype(np.int64)
    del has
    vote_label, vote_code = key // m, key % m
    name_rank = np.empty(len(names), np.int64)  # each old id's place in sorted order
    name_rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    vote_rank = name_rank[vote_code]
    person_of_cluster: dict[int, str] = {}
    kept: set[str] = set()
    strongest = np.lexsort((vote_label, vote_rank, -count))
    for lab, code in zip(
        vote_label[strongest].tolist(), vote_code[strongest].tolist(), strict=True
    ):
        old = names[code]
        if old not in kept and lab not in person_of_cluster:
            person_of_cluster[lab] = old
            kept.add(old)
    new_persons: list[str] = []
    for lab in _numbering_order(label, origins).tolist():
        if lab not in person_of_cluster:
            pid = new_id()
            person_of_cluster[lab] = pid
            new_persons.append(pid)
    merges: dict[str, list[str]] = defaultdict(list)
    splits: dict[str, list[str]] = defaultdict(list)
    voted = np.unique(vote_code)
    every_old = [names[c] for c in voted[np.argsort(name_rank[voted])].tolist()]
    retired = [old for old in every_old if old not in kept]
    by_label = np.lexsort((vote_rank, vote_label))
    for lab, code in zip(vote_label[by_label].tolist(), vote_code[by_label].tolist(), strict=True):
        old, target = names[code], person_of_cluster[lab]
        if old == target:
            continue
        if old in kept:
            splits[old].append(target)
        else:
            merges[target].append(old)
    return Assignment(person_of_cluster, new_persons, dict(merges), dict(splits), retired)


def _distinct(previous: Sequence[str | None]) -> list[str]:
    return PersonCodes(pa.array(list(previous), pa.string())).names


def _codes(previous: PersonCodes | Sequence[str | None]) -> npt.NDArray[np.int32]:
    """Each record's earlier person as a code into its distinct ids (-1: none)."""
    if not isinstance(previous, PersonCodes):
        previous = PersonCodes(pa.array(list(previous), pa.string()))
    codes: npt.NDArray[np.int32] = previous.codes
    return codes


def _numbering_order(
    label: npt.NDArray[np.integer[Any]], origins: Sequence[str] | OriginOrder | None
) -> npt.NDArray[np.int64]:
    """Cluster labels (min record indexes) by their first origin, else by label.

    Labels are record indexes in a run, so each label's smallest origin is kept in an array
    indexed by label (``minimum.at``), never a sort of every record; other labels are
    numbered densely first."""
    if len(label) == 0:
        return np.empty(0, np.int64)
    if int(label.min()) < 0 or int(label.max()) >= len(label):
        values, dense = np.unique(label, return_inverse=True)
        relabelled: npt.NDArray[np.int64] = values[_numbering_order(dense.ravel(), origins)]
        return relabelled.astype(np.int64)
    present = np.zeros(len(label), bool)
    present[label] = True
    distinct = np.flatnonzero(present)
    if origins is None:
        return distinct
    origin = (
        origins
        if isinstance(origins, np.ndarray)
        else origin_order(pa.array(list(origins), pa.string()))
    )
    first = np.full(len(label), np.iinfo(origin.dtype).max, dtype=origin.dtype)
    np.minimum.at(first, label, origin)  # each label's smallest origin
    ordered: npt.NDArray[np.int64] = distinct[np.lexsort((distinct, first[distinct]))]
    return ordered


def persons_of(assignment: Assignment, labels: Labels) -> pa.Array:
    """Each record's person id (by its cluster label), as an Arrow string array: a Python
    list of them took 8 bytes a record beside the Arrow array ``write_run`` made of it."""
    mapping = assignment.person_of_cluster
    keys = np.fromiter(mapping.keys(), dtype=np.int64, count=len(mapping))
    order = np.argsort(keys)
    keys = keys[order]
    at = np.searchsorted(keys, labels)
    if len(labels) and (
        int(at.max()) >= len(keys) or not np.array_equal(keys[at], np.asarray(labels))
    ):
        raise ValueError("a cluster label has no person")
    ids = pa.array(list(mapping.values()), pa.string())
    return ids.take(pa.array(order[at]))
