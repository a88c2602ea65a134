"""What an erasure leaves in the database file's bytes, and what the rewrite costs
(docs/decisions/0643).

A population is generated, loaded and resolved (Splink); the person with the most records is
erased; their names (those no other record contains), identifier hashes and national ids are
counted in the file's bytes after the load, after the erasure and its checkpoint, and after
``Store.rewrite``. Run from the repository root:

    PYTHONPATH=$PWD python benchmarks/erasure/bytes_left.py [--people 150] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from credo.identity.resolution import resolve
from credo.ingest.batch import ingest_population
from credo.rights.erasure import erase
from credo.settings import Settings
from credo.sim import generate
from credo.store.audit import verify
from credo.store.db import Store
from credo.store.rows import rows


def traces(store: Store, person: str) -> list[str]:
    names = [r["name"] for r in rows(
        store.con,
        "SELECT DISTINCT r.name FROM identity_records r WHERE r.person_id = ? AND r.name"
        " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM identity_records o WHERE o.person_id <> ?"
        " AND contains(o.name, r.name))", [person, person])]  # fmt: skip
    hashes = [r["h"] for r in rows(
        store.con,
        "SELECT DISTINCT national_id_hash AS h FROM identity_records WHERE person_id = ?"
        " AND national_id_hash IS NOT NULL", [person])]  # fmt: skip
    clear = [store.keys.decrypt("national_id", bytes(r["c"])) for r in rows(
        store.con, "SELECT ciphertext AS c FROM pii_vault WHERE kind = 'national_id'"
        " AND hash IN (SELECT unnest(?::VARCHAR[]))", [hashes])]  # fmt: skip
    return names + hashes + clear


def found(path: Path, what: list[str]) -> int:
    data = path.read_bytes()
    return sum(data.count(t.encode()) for t in what)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="s20-erasure-") as tmp:
        root = Path(tmp)
        generate(args.people, 6, 3, root / "pop")
        template = root / "template.duckdb"
        with Store.open(Settings(db=template)) as store:
            ingest_population(store, root / "pop", max_reject_rate=0.05)
            resolve(store)
        erase_s, rewrite_s = [], []
        for run in range(args.runs):
            db = root / f"run{run}.duckdb"
            shutil.copy(template, db)
            shutil.copy(template.with_suffix(".key"), db.with_suffix(".key"))
            with Store.open(Settings(db=db)) as store:
                person = store.con.execute(
                    "SELECT person_id FROM identity_records GROUP BY 1"
                    " ORDER BY count(*) DESC, 1 LIMIT 1"
                ).fetchall()[0][0]
                what = traces(store, person)
                store.con.execute("CHECKPOINT")
                loaded = (db.stat().st_size, found(db, what))
                started = time.perf_counter()
                erase(store, person, actor="benchmark")
                erase_s.append(time.perf_counter() - started)
                erased = (db.stat().st_size, found(db, what))
                started = time.perf_counter()
                store.rewrite()
                rewrite_s.append(time.perf_counter() - started)
                rewritten = (db.stat().st_size, found(db, what))
                assert verify(store.con).ok
            print(f"run {run}: {len(what)} traces of {person}; (bytes, occurrences) loaded"
                  f" {loaded}, erased+checkpoint {erased}, rewritten {rewritten}")  # fmt: skip
        print(f"median erase {statistics.median(erase_s):.2f} s,"
              f" median rewrite {statistics.median(rewrite_s):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
