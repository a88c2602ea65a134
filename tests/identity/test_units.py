"""Name keys, constrained clustering and stable id assignment, without a database."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from credo.identity.cluster import Edge, assign_ids, cluster
from credo.identity.names import name_forms


def test_hanzi_pinyin_and_order_share_one_key() -> None:
    keys = {
        name_forms(n).key for n in ("张晓明", "Zhang Xiaoming", "ZHANG XIAOMING", "XIAOMING ZHANG")
    }  # type: ignore[union-attr]
    assert keys == {"xiaoming zhang"}
    assert name_forms("张晓明").exact != name_forms("ZHANG XIAOMING").exact  # type: ignore[union-attr]
    assert name_forms("吕芳").key == name_forms("LYU FANG").key  # type: ignore[union-attr]
    assert name_forms("单伟").key == name_forms("SHAN WEI").key  # type: ignore[union-attr]
    assert name_forms("欧阳娜").ordered == "ouyang na"  # type: ignore[union-attr]
    assert name_forms("Anna Müller").key == name_forms("ANNA MULLER").key  # type: ignore[union-attr]
    assert name_forms("  ") is None


def test_cannot_link_holds_through_other_records() -> None:
    # 0-1 strong, 1-2 strong, but 0 and 2 were rejected: 1-2 must be refused
    edges = [Edge(0, 1, "model", 20.0), Edge(1, 2, "model", 10.0), Edge(2, 3, "model", 9.0)]
    result = cluster(4, edges, [(0, 2)])
    assert result.labels.tolist() == [0, 0, 2, 2]
    assert result.refused == [Edge(1, 2, "model", 10.0)]
    assert len(result.used) == 2


def test_ids_survive_and_merges_and_splits_are_named() -> None:
    counter = iter(range(100))

    def new_id() -> str:
        return f"N{next(counter)}"

    # records 0-2 were A, 3-4 were B; now 0-4 are one cluster: B merges into A
    a = assign_ids([0, 0, 0, 0, 0], ["A", "A", "A", "B", "B"], new_id)
    assert a.person_of_cluster == {0: "A"} and a.merges == {"A": ["B"]} and a.retired == ["B"]
    # A's records now in two clusters: A keeps the larger part, the rest is a split
    s = assign_ids([0, 0, 2, 3], ["A", "A", "A", None], new_id)
    assert s.person_of_cluster[0] == "A" and s.splits == {"A": [s.person_of_cluster[2]]}
    assert s.new_persons == [s.person_of_cluster[2], s.person_of_cluster[3]]


def _numbered(order: list[str], group_of: dict[str, int]) -> dict[str, str]:
    """Person id per origin when the records come in ``order`` (a new run, no history)."""
    first_index: dict[int, int] = {}
    for i, o in enumerate(order):
        first_index.setdefault(group_of[o], i)
    labels = [first_index[group_of[o]] for o in order]  # a cluster's label: its first index
    counter = itertools.count(1)
    result = assign_ids(labels, [None] * len(order), lambda: f"P{next(counter)}", order)
    return {o: result.person_of_cluster[label] for o, label in zip(order, labels, strict=True)}


@given(
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=30, unique=True),
    st.lists(st.integers(0, 5), min_size=30, max_size=30),
    st.randoms(use_true_random=False),
)
def test_new_persons_are_numbered_alike_in_any_record_order(
    origins: list[str], group_keys: list[int], rnd: random.Random
) -> None:
    """Record order follows the identifier key (decision 0213): the same persons must get the
    same ids whatever order their records arrive in."""
    group_of = dict(zip(origins, group_keys, strict=False))
    shuffled = list(origins)
    rnd.shuffle(shuffled)
    assert _numbered(origins, group_of) == _numbered(shuffled, group_of)


def test_a_record_with_only_a_name_joins_the_one_person_holding_it() -> None:
    import duckdb

    from credo.identity.grouping import _sole_name_edges

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE credo_records (idx INTEGER, name_exact VARCHAR, national_id_hash VARCHAR, "
        "phone_hash VARCHAR, birth_date DATE, address_norm VARCHAR)"
    )
    rows = [
        (0, "wang fang", None, "p1", None, None),  # person 0: a phone and an id
        (1, "wang fang", "n1", None, None, "北京市东城区长江路27号"),
        (2, "wang fang", None, None, None, None),  # only a name, held by person 0 alone
        (3, "li wei", None, "p2", None, "广州市青年路38号"),  # two persons called li wei
        (4, "li wei", None, "p3", None, "深圳市长江路97号"),
        (5, "li wei", None, None, None, None),  # which one? neither
        (6, "zhao min", None, None, None, None),  # nobody else is called zhao min
        (7, "wang fang", None, None, None, None),  # one group (a shared customer id) asking
        (8, "li wei", None, None, None, None),  # for two persons: neither
        (9, "wang fan", None, None, None, "东城区长江路27号"),  # a typo, person 0's address
        (10, "li wie", None, None, None, "深圳市长江路97号"),  # a typo, li wei 4's address
        (11, "zhou jie", None, None, None, "广州市青年路38号"),  # li wei 3's address: not him
    ]
    con.executemany("INSERT INTO credo_records VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.execute(
        "ALTER TABLE credo_records ADD COLUMN name_key VARCHAR;"
        "ALTER TABLE credo_records ADD COLUMN name_ordered VARCHAR;"
        "UPDATE credo_records SET name_ordered = name_exact,"
        " name_key = array_to_string(list_sort(string_split(name_exact, ' ')), ' ')"
    )
    con.execute("CREATE TABLE credo_rank AS SELECT idx, 20 - idx AS rank FROM credo_records")
    labels = [0, 0, 2, 3, 4, 5, 6, 7, 7, 9, 10, 11]
    edges = _sole_name_edges(con, labels)
    found = [(e.left, e.right, e.rule) for e in edges]
    # 9 and 10: a mistyped name at an address one person holds; 11: a name unlike his
    assert found == [(2, 1, "sole_name"), (10, 4, "sole_name"), (9, 1, "sole_name")]
    # with the two li wei persons one, the record of 5 joins it; 7-8 still ask for two, and
    # 10 and 11 now share an address with... one person, but only 10's name is close
    edges = _sole_name_edges(con, [0, 0, 2, 3, 3, 5, 6, 7, 7, 9, 10, 11])
    assert sorted((e.left, e.right) for e in edges) == [(2, 1), (5, 4), (9, 1), (10, 4)]
