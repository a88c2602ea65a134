"""Do two stores hold the same resolution? Per table: the row count and, per column, the sum
of the column's hashes, without the columns a run stamps with its own clock.

    .venv/bin/python benchmarks/demo/same.py A/credo.duckdb B/credo.duckdb

Prints one JSON line per table and exits 1 if any differs. The tables are the ones a
resolution writes: records, links, reviews, persons, merges and splits, ``event_persons``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

TABLES = (
    "identity_records",
    "identity_links",
    "identity_reviews",
    "identity_changes",
    "persons",
    "event_persons",
)
CLOCK = {"created_at", "linked_at", "changed_at", "decided_at"}


def digest(db: Path, table: str) -> dict[str, int]:
    """Row count and per-column hash sums of ``table`` (clock columns left out)."""
    with duckdb.connect(str(db), read_only=True, config={"memory_limit": "1GB"}) as con:
        columns = [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if name not in CLOCK
        ]
        sums = ", ".join(f'sum(hash("{c}"))::HUGEINT' for c in columns)
        found = con.execute(f"SELECT count(*), {sums} FROM {table}").fetchone()
    assert found is not None
    sums_found = {c: int(v or 0) for c, v in zip(columns, found[1:], strict=True)}
    return {"rows": int(found[0])} | sums_found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args()
    same = True
    for table in TABLES:
        a, b = digest(args.a, table), digest(args.b, table)
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        same = same and not differ
        print(json.dumps({"table": table, "rows": a["rows"], "differ": differ}), flush=True)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
