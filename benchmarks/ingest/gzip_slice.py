"""One load of one source file into a fresh store, in this process (session 12, decision 0123).

    PYTHONPATH=. .venv/bin/python benchmarks/ingest/gzip_slice.py FOLDER/payments.csv[.gz]

Prints one JSON line: rows, the load's process CPU seconds (every thread) and wall seconds,
the CPU seconds of the hashing pass alone (for a ``.gz``: hashing and the inflate that checks
it), and sums of column hashes of the stored events and the quarantine, which must be equal
for the plain and the gzipped file (``phone_hash`` is left out: each fresh store has its own
key). The mapping is ``mapping.yaml`` beside the file; the source ``alipay_payments``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from credo.ingest.compressed import sha256_checked
from credo.ingest.loader import ingest
from credo.ingest.mapping import load_mapping
from credo.settings import Settings
from credo.store.db import Store

COLUMNS = ("source_record_id", "occurred_at", "amount", "name", "merchant_category")


def main(path: Path) -> None:
    mapping = load_mapping(path.parent / "mapping.yaml")
    started = time.process_time()
    sha256_checked(path)
    hash_cpu = time.process_time() - started
    with (
        tempfile.TemporaryDirectory() as tmp,
        Store.open(Settings(db=Path(tmp) / "t.duckdb"), create=True) as store,
    ):
        cpu, wall = time.process_time(), time.perf_counter()
        report = ingest(store, path, "alipay_payments", mapping, max_reject_rate=0.01)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        sums = ", ".join(f"sum(hash({c}))" for c in COLUMNS)
        events = store.con.execute(f"SELECT count(*), {sums} FROM events").fetchall()[0]
        quarantine = store.con.execute(
            "SELECT count(*), sum(hash(row_no, field, reason, raw_value)) FROM quarantine"
        ).fetchall()[0]
    print(
        json.dumps(
            {
                "file": path.name,
                "rows": report.rows_read,
                "new": report.rows_new,
                "rejected": report.rows_rejected,
                "load_cpu": round(cpu, 2),
                "load_wall": round(wall, 2),
                "hash_pass_cpu": round(hash_cpu, 2),
                "events_sums": [str(v) for v in events],
                "quarantine_sums": [str(v) for v in quarantine],
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
