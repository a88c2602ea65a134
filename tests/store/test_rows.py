"""Named-row helpers leave the connection ready for the next call."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from credo.store.rows import one, registered, value


def test_one_and_value_finish_their_result() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1), (2), (3)")
    with registered(con, "extra", pa.table({"a": [4]})):
        assert value(con, "SELECT a FROM t ORDER BY a") == 1
        assert one(con, "SELECT a FROM t ORDER BY a DESC") == {"a": 3}
    assert value(con, "SELECT count(*) FROM t") == 3
    assert one(con, "SELECT a FROM t WHERE false") is None
