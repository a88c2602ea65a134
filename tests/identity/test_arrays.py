"""The array-backed per-record columns read exactly as the Python lists and dicts they replace
(decision 0117)."""

from __future__ import annotations

import hashlib
import math

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.identity.arrays import OriginOrder, PersonCodes, RecordIds, origin_order, origin_ranks
from credo.identity.cluster import Assignment, Edge, EdgeList, assign_ids

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def _md5s(n: int) -> list[str]:
    return sorted(hashlib.md5(str(k).encode()).hexdigest() for k in range(n))


@given(st.sets(_TEXT, max_size=40), st.integers(1, 5), st.integers(0, 3))
def test_record_ids_read_as_the_list_and_dict_they_replace(
    texts: set[str], chunks: int, skip: int
) -> None:
    ids = sorted(texts, key=lambda t: t.encode())  # DuckDB's order: by the bytes
    padded = [*("!" * k for k in range(skip)), *ids]  # a slice of a larger array, offset > 0
    array = pa.array(padded, pa.string()).slice(skip)
    size = max(1, math.ceil(len(ids) / chunks))
    column = pa.chunked_array([array.slice(k, size) for k in range(0, len(ids), size)] or [array])
    record_ids = RecordIds(column)
    index = record_ids.positions
    assert list(record_ids) == ids and len(record_ids) == len(ids)
    assert [record_ids[i] for i in range(len(ids))] == ids
    assert dict(index) == {r: i for i, r in enumerate(ids)}
    assert all(index[r] == i and r in index for i, r in enumerate(ids))
    for absent in ("", "zz", *(t + "x" for t in ids[:3])):
        if absent not in texts:
            assert absent not in index and record_ids.find(absent) is None
            with pytest.raises(KeyError):
                index[absent]


def test_record_ids_of_one_width_are_read_in_place() -> None:
    ids = _md5s(1000)
    record_ids = RecordIds(pa.chunked_array([pa.array(ids[:300]), pa.array(ids[300:])]))
    assert list(record_ids) == ids and record_ids[517] == ids[517]
    assert record_ids.positions[ids[999]] == 999 and record_ids[10:13] == ids[10:13]


@pytest.mark.parametrize("ids", [["b", "a"], ["a", "a"], ["a", None]])
def test_record_ids_out_of_order_repeated_or_null_are_refused(ids: list[str | None]) -> None:
    with pytest.raises(ValueError, match="record ids must"):
        RecordIds(pa.array(ids, pa.string()))


@given(st.lists(st.one_of(st.none(), st.sampled_from(["CP1", "CP2", "CP10", "CP3"]))))
def test_person_codes_read_as_the_list_they_replace(persons: list[str | None]) -> None:
    codes = PersonCodes(pa.chunked_array([pa.array(persons, pa.string())]))
    assert list(codes) == persons and len(codes) == len(persons)
    assert [codes[i] for i in range(len(persons))] == persons
    assert codes[1:3] == persons[1:3]
    assert codes.new() == sum(p is None for p in persons)


@given(st.lists(_TEXT, max_size=60))
def test_origin_ranks_are_the_places_sorted_gives(origins: list[str]) -> None:
    expected = [0] * len(origins)
    for place, i in enumerate(sorted(range(len(origins)), key=origins.__getitem__)):
        expected[i] = place
    assert origin_ranks(pa.array(origins, pa.string())).tolist() == expected


@given(
    st.lists(
        st.builds(
            Edge,
            st.integers(0, 2**31 - 1),
            st.integers(0, 2**31 - 1),
            st.sampled_from(["review", "national_id", "model", "sole_name"]),
            st.one_of(st.just(math.inf), st.floats(allow_nan=False, allow_infinity=False)),
        )
    )
)
def test_an_edge_list_gives_back_the_edges_put_in(edges: list[Edge]) -> None:
    kept = EdgeList(edges)
    assert list(kept) == edges and kept == edges and len(kept) == len(edges)
    assert [kept[i] for i in range(len(edges))] == edges and kept[1:4] == edges[1:4]
    assert kept.rules() == [e.rule for e in edges]
    counts = kept.rule_counts()
    assert counts == {r: sum(e.rule == r for e in edges) for r in counts}
    assert sum(counts.values()) == len(edges)
    assert kept != [*edges, Edge(0, 0, "model", 1.0)]


@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b", "ab", "é", "z"]))))
def test_persons_numbered_by_origin_order_as_by_the_origins(pairs: list[tuple[int, str]]) -> None:
    labels = [min(i for i, (g, _o) in enumerate(pairs) if g == group) for group, _o in pairs]
    origins = [o for _g, o in pairs]

    def numbered(order: list[str] | OriginOrder) -> Assignment:
        counter = iter(range(len(pairs) + 1))
        return assign_ids(labels, [None] * len(pairs), lambda: f"P{next(counter)}", order)

    by_number = numbered(origin_order(pa.chunked_array([pa.array(origins, pa.string())])))
    assert by_number == numbered(origins)
