"""The demo's summary counts its reasons in SQL (decision 0995): the same list, ties in the same
order, as ``Counter.most_common`` over the snapshots read one dict per person."""

from __future__ import annotations

from collections import Counter

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.scoring.demo import _top_reasons

_CODES = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]), max_size=4)


@settings(max_examples=100, deadline=None)
@given(
    snapshots=st.dictionaries(st.text("PQ0123", min_size=1, max_size=4), _CODES, max_size=30),
    k=st.integers(1, 6),
)
def test_top_reasons_are_most_common_over_the_persons_in_id_order(
    snapshots: dict[str, list[str]], k: int
) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE score_snapshots (run_id VARCHAR, person_id VARCHAR,"
                " reason_codes VARCHAR[])")  # fmt: skip
    rows = [("r1", p, codes) for p, codes in snapshots.items()]
    rows += [("r0", p, ["z"] * 3) for p in snapshots]  # another run, not counted
    if rows:
        con.executemany("INSERT INTO score_snapshots VALUES (?, ?, ?)", rows)
    expected = Counter(code for p in sorted(snapshots) for code in snapshots[p]).most_common(k)
    assert _top_reasons(con, "r1", k) == expected
