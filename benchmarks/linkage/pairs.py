"""Candidate pairs of each blocking rule, and of all together, on a store's identity records.

Every candidate pair costs a comparison of all fields, so a rule whose pairs grow faster than
the records decides how far resolution scales (decision 0997: the ten-character address tail
gave 20.7M of 28.8M pairs at 100,000 persons). Run it on stores of two sizes and compare:

    PYTHONPATH=$PWD .venv/bin/python benchmarks/linkage/pairs.py D/credo.duckdb [D2/credo.duckdb]

The rules are this tree's ``BLOCKING_RULES``; the store is opened read-only.
"""

from __future__ import annotations

import json
import sys

import duckdb

from credo.identity.linkage import BLOCKING_RULES


def rule_pairs(db: str, memory_limit: str = "4GB") -> dict[str, int]:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("ATTACH ? AS s (READ_ONLY)", [db])
    con.execute(
        "CREATE TEMP TABLE f AS SELECT row_number() OVER () AS i, * FROM s.identity_records"
    )
    out = {"records": int(con.execute("SELECT count(*) FROM f").fetchall()[0][0])}
    for rule in BLOCKING_RULES:
        sql = f"SELECT count(*) FROM f l JOIN f r ON ({rule}) AND l.i < r.i"
        out[rule] = int(con.execute(sql).fetchall()[0][0])
    union = " UNION ".join(
        f"SELECT l.i AS a, r.i AS b FROM f l JOIN f r ON ({rule}) AND l.i < r.i"
        for rule in BLOCKING_RULES
    )
    out["all rules, distinct pairs"] = int(
        con.execute(f"SELECT count(*) FROM ({union})").fetchall()[0][0]
    )
    return out


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(json.dumps({"store": path, **rule_pairs(path)}))
