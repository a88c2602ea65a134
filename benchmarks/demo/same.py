"""Do two stores hold the same resolution? Per table: the row count and, per column, the sum
of the column's hashes, without the columns a run stamps with its own clock.

    .venv/bin/python benchmarks/demo/same.py A/credo.duckdb B/credo.duckdb
    .venv/bin/python benchmarks/demo/same.py --scores A/credo.duckdb B/credo.duckdb

Prints one JSON line per table and exits 1 if any differs. The tables are the ones a
resolution writes: records, links, reviews, persons, merges and splits, ``event_persons``.
With ``--scores``, also the models' ids and, per month-end scored, the scores: every
``(person_id, score, band, reason_codes)`` of the month's latest monthly run, rows in one
store and not the other counted both ways (``credo demo`` against ``steps.py``'s steps with
the demo's key).
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
#: Stamped by a run's clock; ``first_seen_at`` is the record's first load time (``recorded_at``),
#: so two stores ingested apart differ there and nowhere else.
CLOCK = {"created_at", "linked_at", "changed_at", "decided_at", "first_seen_at"}


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


SCORES = """
    SELECT r.as_of, s.person_id, s.score, s.band, s.reason_codes
    FROM {db}.score_snapshots s JOIN (
        SELECT as_of, arg_max(run_id, seq) AS run_id FROM {db}.score_runs
        WHERE kind = 'monthly' GROUP BY as_of
    ) r USING (run_id)
"""


def same_scores(a: Path, b: Path) -> bool:
    """Print the models and, per month-end, the rows only one store has; whether all agree."""
    with duckdb.connect(config={"memory_limit": "1GB"}) as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        models = [
            sorted(r[0] for r in con.execute(f"SELECT model_id FROM {db}.models").fetchall())
            for db in ("a", "b")
        ]
        same = models[0] == models[1]
        print(json.dumps({"models": models[0], "differ": not same}), flush=True)
        found = con.execute(
            f"""WITH x AS ({SCORES.format(db="a")}), y AS ({SCORES.format(db="b")}),
            months AS (SELECT DISTINCT as_of FROM x UNION SELECT DISTINCT as_of FROM y)
            SELECT m.as_of,
                (SELECT count(*) FROM x WHERE x.as_of = m.as_of),
                (SELECT count(*) FROM y WHERE y.as_of = m.as_of),
                (SELECT count(*) FROM (SELECT * FROM x WHERE x.as_of = m.as_of
                                       EXCEPT ALL SELECT * FROM y WHERE y.as_of = m.as_of)),
                (SELECT count(*) FROM (SELECT * FROM y WHERE y.as_of = m.as_of
                                       EXCEPT ALL SELECT * FROM x WHERE x.as_of = m.as_of))
            FROM months m ORDER BY m.as_of"""
        ).fetchall()
    for as_of, rows_a, rows_b, only_a, only_b in found:
        row = {"as_of": str(as_of), "rows": [rows_a, rows_b], "only_a": only_a, "only_b": only_b}
        same = same and rows_a == rows_b and only_a == only_b == 0
        print(json.dumps(row), flush=True)
    return same and bool(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--scores", action="store_true", help="also every month's scores")
    args = parser.parse_args()
    same = same_scores(args.a, args.b) if args.scores else True
    for table in TABLES:
        a, b = digest(args.a, table), digest(args.b, table)
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        same = same and not differ
        print(json.dumps({"table": table, "rows": a["rows"], "differ": differ}), flush=True)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
