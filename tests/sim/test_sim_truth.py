"""Resolution checked against the generator's truth: splits and merges are counted per record."""

from __future__ import annotations

from pathlib import Path

from scoring.truth import link_from_truth

from credo.ingest.batch import ingest_population
from credo.settings import Settings
from credo.sim import GenerationSummary
from credo.sim.truth import check_resolution
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import rows


def test_a_split_and_a_merge_are_each_counted(small: GenerationSummary, tmp_path: Path) -> None:
    with Store.open(Settings(db=tmp_path / "c.duckdb")) as store:
        ingest_population(store, small.out, max_reject_rate=0.2)
        link_from_truth(store, small.out)
        exact = check_resolution(store.con, small.out)
        assert (exact.split, exact.merged) == (0, 0) and exact.generated == exact.resolved > 10
        a, b = (
            r["person_id"]
            for r in rows(
                store.con,
                "SELECT person_id FROM event_persons WHERE role = 'subject'"
                " GROUP BY ALL HAVING count(*) > 2 ORDER BY 1 LIMIT 2",
            )
        )
        # one record of A goes to B: A is split (A and B hold it), B merges A's and its own
        with store.write(AuditEntry("test", "move one record")) as con:
            con.execute(
                "UPDATE event_persons SET person_id = ? WHERE role = 'subject' AND event_id ="
                " (SELECT min(event_id) FROM event_persons WHERE person_id = ?"
                " AND role = 'subject')",
                [b, a],
            )
        moved = check_resolution(store.con, small.out)
    assert (moved.split, moved.merged) == (1, 1)
    assert (moved.generated, moved.resolved) == (exact.generated, exact.resolved)
