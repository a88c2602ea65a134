"""The load's cheaper SQL (issue 21) gives exactly what the plain SQL gave, for any text."""

from __future__ import annotations

import duckdb
from hypothesis import example, given
from hypothesis import strategies as st

from credo.ingest.reader import trimmed_sql

# Unicode space separators (category Zs, what DuckDB's trim removes), other whitespace it keeps,
# control characters, ASCII letters and CJK text: the characters the fast paths decide on.
_EDGES = " \u00a0\u1680\u2000\u2003\u200a\u202f\u205f\u3000\t\n\r\x00\x1f\x7f\x80\x9f"
_TEXT = st.text(alphabet=st.sampled_from(_EDGES + "aZ0-é张"), max_size=8) | st.text(max_size=20)

_CON = duckdb.connect()


@example(values=["a ", " a", "a\u3000", "\u3000a", "张 ", " ", "", "a\t", None])
@given(values=st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=30))
def test_the_trim_fast_path_is_nullif_trim(values: list[str | None]) -> None:
    got = _CON.execute(
        f"SELECT list({trimmed_sql('v')} ORDER BY i), list(nullif(trim(v), '') ORDER BY i) "
        "FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i)",
        [values, values],
    ).fetchall()[0]
    assert got[0] == got[1]
