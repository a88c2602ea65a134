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

from credo.identity.arrays import OriginOrder, Ranks
from credo.identity.constraints import Holdings, Traits

__all__ = [
    "Assignment",
    "Clustering",
    "Edge",
    "EdgeList",
    "Links",
    "assign_ids",
    "cluster",
    "link_order",
]


@dataclass(frozen=True, slots=True)
class Edge:
    left: int
    right: int
    rule: str  # "review", "national_id", "model" or "sole_name"
    weight: float


@dataclass(frozen=True, slots=True)
class Links:
    """Many links of one rule as three parallel lists, already in order: millions of model
    links are read this way, and an ``Edge`` is made only for the few that join two groups or
    are refused (at 3.3M links one object per link was most of the clustering's time)."""

    left: list[int]
    right: list[int]
    weight: list[float]
    rule: str = "model"


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
    labels: list[int]  # cluster label per record: the smallest record index in its cluster
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
        self.parent = list(range(n))
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
    then: Callable[[list[int]], Iterable[Edge]] | None = None,
) -> Clustering:
    """Union-find over ``edges`` in the order given, honouring ``cannot_link`` and refusing
    any link that would join records whose ``traits`` contradict each other.

    ``groups`` are joined first, unconditionally and without evidence: an incremental run
    starts from the existing persons (whose links are already stored) and may only add to
    them; a link that would join two of them is checked like any other.

    ``then``, given the labels the edges made, yields links that depend on the whole
    clustering (a record joining the one person holding its name); they are checked the same
    way."""
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
            for x, y, w in zip(e.left, e.right, e.weight, strict=True):
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
        take(then([find(i) for i in range(n)]))
    return Clustering([find(i) for i in range(n)], used, refused, reasons)


@dataclass
class Assignment:
    person_of_cluster: dict[int, str]
    new_persons: list[str]
    merges: dict[str, list[str]]  # surviving id -> ids merged into it
    splits: dict[str, list[str]]  # old id -> ids that took some of its records
    retired: list[str]


def assign_ids(
    labels: Sequence[int],
    previous: Sequence[str | None],
    new_id: Callable[[], str],
    origins: Sequence[str] | OriginOrder | None = None,
    weights: Sequence[int] | None = None,
) -> Assignment:
    """Carry person ids over from ``previous`` (per record, None for a new record).

    New persons are numbered in the order of their first record by ``origins`` (a per-record
    name free of keyed values, decision 0213) when given, else by record index: record ids
    digest keyed hashes, so numbering by index would give the same person another id under
    another identifier key. ``weights``: how many records each record stands for (an
    incremental run reads one record for several of a person's, decision 0305)."""
    votes: dict[int, Counter[str]] = defaultdict(Counter)
    for label, old, weight in zip(labels, previous, weights or [1] * len(labels), strict=True):
        if old is not None:
            votes[label][old] += weight
    candidates = sorted(
        ((count, old, label) for label, c in votes.items() for old, count in c.items()),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    person_of_cluster: dict[int, str] = {}
    kept: set[str] = set()
    for _count, old, label in candidates:
        if old not in kept and label not in person_of_cluster:
            person_of_cluster[label] = old
            kept.add(old)
    new_persons: list[str] = []
    for label in _numbering_order(labels, origins):
        if label not in person_of_cluster:
            pid = new_id()
            person_of_cluster[label] = pid
            new_persons.append(pid)
    merges: dict[str, list[str]] = defaultdict(list)
    splits: dict[str, list[str]] = defaultdict(list)
    every_old = sorted({old for c in votes.values() for old in c})
    retired = [old for old in every_old if old not in kept]
    for label, c in sorted(votes.items()):
        target = person_of_cluster[label]
        for old in sorted(c):
            if old == target:
                continue
            if old in kept:
                splits[old].append(target)
            else:
                merges[target].append(old)
    return Assignment(person_of_cluster, new_persons, dict(merges), dict(splits), retired)


def _numbering_order(
    labels: Sequence[int], origins: Sequence[str] | OriginOrder | None
) -> list[int]:
    """Cluster labels (min record indexes) by their first origin, else by label."""
    if origins is None:
        return sorted(set(labels))
    first: dict[int, Any] = {}
    for label, origin in zip(labels, origins, strict=True):
        if label not in first or origin < first[label]:
            first[label] = origin
    return sorted(first, key=lambda label: (first[label], label))
