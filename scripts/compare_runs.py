"""Compare two Credo databases' score runs row for row: the check a refactoring must pass.

    python scripts/compare_runs.py BEFORE.duckdb AFTER.duckdb

Run the demo at two commits (``credo demo --no-serve --dir D``) and compare. Each demo folder
gets its own identifier key; persons no longer depend on it (decision 0213), and the demo's
runs compare equal run to run.

Every snapshot column except the run's random id and its ``known_at`` (the wall-clock time the
demo's files were loaded) must be equal, bit for bit (``EXCEPT ALL`` both ways, so duplicates
count), and so must the runs (except ids and times), the persons and the event-person links.
A person id is numbered in write order, so persons are compared by the links they hold.
Exits 1 naming each table that differs, with a few differing rows.
"""

from __future__ import annotations

import sys

import duckdb

# A person id is a number handed out in the order clusters are written, which may differ
# between two runs that find the same clusters; a person is therefore named by what it holds:
# a digest of its links (event id and role), the same in any run that resolved it alike.
PERSON_KEYS = """
CREATE TEMP TABLE {db}_keys AS
SELECT person_id, md5(string_agg(event_id || ':' || role, ',' ORDER BY event_id, role)) AS person
FROM {db}.event_persons GROUP BY person_id
"""

# Per table: the columns that identify a row's content, leaving out random ids and wall-clock
# times. Snapshots are tied to their run by the run's (kind, as_of, seq) instead of its id.
CHECKS: dict[str, str] = {
    "score_runs": (
        "SELECT * EXCLUDE (run_id, previous_run_id, created_at, known_at, person_id)"
        " FROM {db}.score_runs"
    ),
    "score_snapshots": (
        "SELECT r.kind, r.seq, k.person, s.* EXCLUDE (run_id, person_id, known_at)"
        " FROM {db}.score_snapshots s JOIN {db}.score_runs r USING (run_id)"
        " LEFT JOIN {db}_keys k ON k.person_id = s.person_id"
    ),
    "persons": (
        "SELECT k.person, p.status FROM {db}.persons p LEFT JOIN {db}_keys k USING (person_id)"
    ),
    "event_persons": (
        "SELECT e.event_id, e.role, k.person FROM {db}.event_persons e"
        " JOIN {db}_keys k USING (person_id)"
    ),
}


def compare(before: str, after: str) -> list[str]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{before}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS b (READ_ONLY)")
    for db in ("a", "b"):
        con.execute(PERSON_KEYS.format(db=db))
    problems = []
    for table in CHECKS:
        qa, qb = CHECKS[table].format(db="a"), CHECKS[table].format(db="b")
        counts = con.execute(f"SELECT (SELECT count(*) FROM ({qa})), (SELECT count(*) FROM ({qb}))")
        n_a, n_b = counts.fetchone() or (0, 0)
        only_a = con.execute(f"({qa}) EXCEPT ALL ({qb}) LIMIT 3").fetchall()
        only_b = con.execute(f"({qb}) EXCEPT ALL ({qa}) LIMIT 3").fetchall()
        if n_a != n_b or only_a or only_b:
            problems.append(
                f"{table}: {n_a} rows before, {n_b} after; only before: {only_a}; "
                f"only after: {only_b}"
            )
        else:
            print(f"{table}: {n_a} rows, identical")
    return problems


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    problems = compare(sys.argv[1], sys.argv[2])
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
