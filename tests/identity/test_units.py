"""Name keys, constrained clustering and stable id assignment, without a database."""

from __future__ import annotations

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
    assert result.labels == [0, 0, 2, 2]
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
