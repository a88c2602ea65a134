"""Cannot-link constraints in the clustering, without a database (decision 0301).

Records are drawn with few distinct national ids, sexes and dates so that contradictions and
chains through records without ids are common, and links with few distinct weights so that
ties are common: ties are where an order taken from the input (or from keyed record ids)
would show.
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import combinations
from typing import Any
from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from credo.identity import cluster as cluster_module
from credo.identity.cluster import Edge, Links, cluster, link_order
from credo.identity.constraints import (
    Holdings,
    Traits,
    births_agree,
    births_consistent,
    sex_of_national_id,
)
from credo.identity.rules import _one_id

# a date, its swap, a typo of it, a typo of that typo (two digits from the date) and another
BIRTHS = (
    dt.date(1980, 3, 4),
    dt.date(1980, 4, 3),
    dt.date(1980, 3, 5),
    dt.date(1980, 3, 15),
    dt.date(1991, 7, 20),
)
WEIGHTS = (6.0, 7.5, 12.0, math.inf)

traits = st.builds(
    Traits,
    st.sampled_from([None, None, "id-a", "id-b", "id-c"]),
    st.sampled_from([None, "F", "M"]),
    st.sampled_from([None, *BIRTHS]),
)


@st.composite
def problems(draw: st.DrawFn) -> tuple[list[Traits], list[Edge], list[int]]:
    """Records' traits, links between them (each pair at most once) and a permutation."""
    records = draw(st.lists(traits, min_size=2, max_size=14))
    n = len(records)
    pairs = draw(st.lists(st.sampled_from(list(combinations(range(n), 2))), unique=True))
    edges = [Edge(a, b, "model", draw(st.sampled_from(WEIGHTS))) for a, b in pairs]
    return records, edges, draw(st.permutations(range(n)))


def _persons(records: list[Traits], edges: list[Edge], rank: list[int]) -> set[frozenset[int]]:
    """The persons, as sets of ranks (what the data names a record by, not its index)."""
    result = cluster(len(records), sorted(edges, key=link_order(rank)), [], (), records)
    members: dict[int, set[int]] = {}
    for i, label in enumerate(result.labels):
        members.setdefault(label, set()).add(rank[i])
    return {frozenset(m) for m in members.values()}


@given(problems())
def test_no_person_holds_contradicting_records(
    problem: tuple[list[Traits], list[Edge], list[int]],
) -> None:
    records, edges, _ = problem
    rank = list(range(len(records)))
    for person in _persons(records, edges, rank):
        held = [records[i] for i in person]
        assert len({t.national_id for t in held} - {None}) <= 1
        assert len({t.sex for t in held} - {None}) <= 1
        dates = [t.birth for t in held if t.birth is not None]
        assert births_consistent(set(dates))


@given(problems())
def test_persons_do_not_depend_on_record_or_link_order(
    problem: tuple[list[Traits], list[Edge], list[int]],
) -> None:
    records, edges, perm = problem
    rank = list(range(len(records)))
    # record i becomes record perm[i]; its rank (its origin's place) goes with it
    moved = [records[0]] * len(records)
    moved_rank = [0] * len(records)
    for i, j in enumerate(perm):
        moved[j], moved_rank[j] = records[i], rank[i]
    moved_edges = [Edge(perm[e.left], perm[e.right], e.rule, e.weight) for e in reversed(edges)]
    assert _persons(moved, moved_edges, moved_rank) == _persons(records, edges, rank)


@given(problems(), st.integers(min_value=1, max_value=5))
def test_links_in_batches_cluster_as_single_edges(
    problem: tuple[list[Traits], list[Edge], list[int]], size: int
) -> None:
    """Model links read in batches of plain lists (``Links``, how millions are read) give the
    same persons, evidence and refusals as the same links one ``Edge`` at a time."""
    records, edges, _ = problem
    ordered = sorted(edges, key=link_order(list(range(len(records)))))
    batches = [
        Links([e.left for e in part], [e.right for e in part], [e.weight for e in part])
        for part in (ordered[k : k + size] for k in range(0, len(ordered), size))
    ]
    one = cluster(len(records), ordered, [], (), records)
    batched = cluster(len(records), batches, [], (), records)
    assert (batched.labels.tolist(), batched.used, batched.refused) == (
        one.labels.tolist(),
        one.used,
        one.refused,
    )
    assert batched.contradictions == one.contradictions


def test_a_chain_through_records_without_ids_stops_at_the_second_id() -> None:
    # 0 (id a) - 1 - 2 - 3 (id b): strong links all along; the weakest one is refused
    records = [Traits("a"), Traits(), Traits(), Traits("b")]
    edges = [Edge(0, 1, "model", 20.0), Edge(2, 3, "model", 15.0), Edge(1, 2, "model", 9.0)]
    result = cluster(4, edges, [], (), records)
    assert result.labels.tolist() == [0, 0, 2, 2]
    assert result.refused == [Edge(1, 2, "model", 9.0)]
    assert result.contradictions == {"different verified national ids": 1}


def test_an_accepted_review_overrides_dates_and_sexes_but_never_two_ids() -> None:
    records = [Traits("a", "F", BIRTHS[0]), Traits(None, "M", BIRTHS[3]), Traits("b")]
    edges = [Edge(0, 1, "review", math.inf), Edge(0, 2, "review", math.inf)]
    result = cluster(3, edges, [], (), records)
    assert result.labels.tolist() == [0, 0, 2]
    assert result.contradictions == {"different verified national ids": 1}


def test_contradictions_are_typos_only_when_they_look_like_typos() -> None:
    assert births_agree(dt.date(1980, 3, 4), dt.date(1980, 4, 3))  # day/month swap
    assert births_agree(dt.date(1980, 3, 4), dt.date(1980, 3, 5))  # one digit
    assert births_agree(dt.date(1980, 3, 4), dt.date(1989, 3, 4))
    assert not births_agree(dt.date(1980, 3, 4), dt.date(1980, 5, 6))
    assert not births_agree(dt.date(1980, 3, 14), dt.date(1981, 3, 15))
    assert births_agree(dt.date(1980, 3, 4), dt.date(1980, 4, 5))  # swapped and one digit
    # two typos of 1980-03-05 are one person with it, not without it
    assert births_consistent({dt.date(1980, 3, 4), dt.date(1980, 3, 5), dt.date(1980, 3, 15)})
    assert not births_consistent({dt.date(1980, 3, 4), dt.date(1980, 3, 15)})
    assert sex_of_national_id("11010519491231002X") == "F"
    assert sex_of_national_id("110105194912310010") == "M"


def test_the_id_rule_links_a_mistyped_date_and_reviews_a_different_one() -> None:
    # one verified id on four records: the date, a digit typo of it, no date, another date
    members = [(0, BIRTHS[0]), (1, BIRTHS[2]), (2, None), (3, BIRTHS[4])]
    edges, conflicts = _one_id(members)
    assert [(e.left, e.right) for e in edges] == [(0, 1)]
    assert conflicts == [(0, 3)]
    edges, conflicts = _one_id(members[:3])
    assert sorted((e.left, e.right) for e in edges) == [(0, 1), (0, 2)] and conflicts == []


class _EagerForest(cluster_module._Forest):
    """The forest as it was before decision 0122: every record's ``Holdings`` built up front
    and kept until its group is joined."""

    def __init__(self, n: int, cannot_link: Any, traits: Any) -> None:
        super().__init__(n, cannot_link, traits)
        self.eager = {i: h for i, h in enumerate(map(Holdings, traits)) if h}

    def union(self, a: int, b: int) -> None:
        if a < b:
            a, b = b, a
        self.parent[a] = b
        if a in self.forbid:
            self.forbid[b] |= self.forbid.pop(a)
        if a in self.eager:
            moved = self.eager.pop(a)
            if b in self.eager:
                self.eager[b].absorb(moved)
            else:
                self.eager[b] = moved

    def why_not(self, a: int, b: int, rule: str) -> str | None:
        fa = self.forbid.get(a)
        if fa and b in {self.find(x) for x in fa}:
            return "a rejected or pending pair"
        if a in self.eager and b in self.eager:
            return self.eager[a].clash(self.eager[b], ids_only=rule == "review")
        return None


@given(problems(), st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13)), max_size=3))
def test_holdings_made_when_asked_cluster_as_those_made_up_front(
    problem: tuple[list[Traits], list[Edge], list[int]], cannot: list[tuple[int, int]]
) -> None:
    records, edges, rank = problem
    n = len(records)
    cannot = [(a % n, b % n) for a, b in cannot]
    reviewed = [Edge(e.left, e.right, "review" if e.weight > 10 else e.rule, e.weight)
                for e in edges]  # fmt: skip
    ordered = sorted(reviewed, key=link_order(rank))
    lazy = cluster(n, ordered, cannot, (), records)
    with patch.object(cluster_module, "_Forest", _EagerForest):
        eager = cluster(n, ordered, cannot, (), records)
    assert lazy.labels.tolist() == eager.labels.tolist()
    assert lazy.refused == eager.refused
    assert lazy.contradictions == eager.contradictions
    assert list(lazy.used) == list(eager.used)
