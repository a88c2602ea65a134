"""How identity resolution did against a generated population's ground truth.

The generator knows which person made every source record (``truth/records.parquet``); the
resolver does not. Comparing the two per record says how many generated persons were **split**
(their records went to two or more resolved persons) and how many resolved persons **merge**
two or more generated persons, so a demo can say why it resolved 10,000 persons to 10,494.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from credo.store.rows import one

__all__ = ["TruthCheck", "check_resolution"]


@dataclass(frozen=True)
class TruthCheck:
    generated: int  # generated persons with a record that was loaded and resolved
    resolved: int  # resolved persons holding those records
    split: int  # generated persons whose records are held by two or more resolved persons
    merged: int  # resolved persons holding records of two or more generated persons

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_SQL = """
    WITH pairs AS (
        SELECT DISTINCT r.person_id AS truth, p.person_id AS resolved
        FROM events e
        JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'
        JOIN read_parquet(?) r ON r.source = e.source AND r.source_record_id = e.source_record_id
    ),
    per_truth AS (SELECT truth, count(*) AS n FROM pairs GROUP BY truth),
    per_resolved AS (SELECT resolved, count(*) AS n FROM pairs GROUP BY resolved)
    SELECT
        (SELECT count(*) FROM per_truth) AS generated,
        (SELECT count(*) FROM per_resolved) AS resolved,
        (SELECT count(*) FROM per_truth WHERE n > 1) AS split,
        (SELECT count(*) FROM per_resolved WHERE n > 1) AS merged
"""


def check_resolution(con: duckdb.DuckDBPyConnection, population: Path) -> TruthCheck:
    """Resolved persons against the generator's truth, over the records that were loaded."""
    records = population / "truth" / "records.parquet"
    row = one(con, _SQL, [str(records)]) or {}
    return TruthCheck(**{k: int(v) for k, v in row.items()})
