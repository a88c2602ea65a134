"""Score runs: the ``score_runs`` row that says what a run used, written with its rows.

Each run records model id, policy name/version/digest and the data watermark (``known_at``),
and which previous run its trend and contact scores read. A correction re-score records the
watermark of the corrections it applied; its snapshot rows keep the events' watermark (that of
the monthly run it corrects, docs/decisions/0531). :func:`write_run` commits the run
row, its rows and the audit entry in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pyarrow as pa

from credo.features import PointInTime
from credo.policy.schema import LoadedPolicy
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.rows import insert, one, registered, value

__all__ = [
    "BuildRows",
    "ScoreRun",
    "insert_snapshots",
    "latest_known_at",
    "previous_run",
    "write_run",
]

BuildRows = Callable[[duckdb.DuckDBPyConnection, str], int]
"""Writes a run's rows given its ``run_id`` inside the run's transaction; returns their count."""


@dataclass(frozen=True)
class ScoreRun:
    run_id: str
    kind: str
    as_of: dt.date
    known_at: dt.datetime
    model_id: str | None
    policy_name: str
    policy_version: str
    persons: int
    previous_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["known_at"] = self.known_at.isoformat()
        return data


def latest_known_at(store: Store) -> dt.datetime:
    """The default watermark: the newest ``recorded_at`` (data, not the wall clock)."""
    newest = store.scalar("SELECT max(recorded_at) FROM events")
    return newest if isinstance(newest, dt.datetime) else dt.datetime(1970, 1, 1)


def previous_run(
    store: Store,
    as_of: dt.date,
    policy_name: str,
    *,
    before_seq: int | None = None,
    known_at: dt.datetime | None = None,
) -> str | None:
    """The latest monthly run of this policy for an earlier month (trend, contacts' scores).

    ``known_at`` keeps to runs made by then: training as known at a time must not see scores
    computed later (a re-run of the demo would otherwise train on its first run's scores)."""
    row = one(
        store.con,
        "SELECT run_id FROM score_runs WHERE kind = 'monthly' AND as_of < ? AND policy_name = ?"
        " AND seq < ? AND created_at <= ? ORDER BY as_of DESC, seq DESC LIMIT 1",
        [
            as_of,
            policy_name,
            before_seq if before_seq is not None else 2**62,
            known_at or dt.datetime.max,
        ],
    )
    return None if row is None else str(row["run_id"])


def write_run(
    store: Store,
    kind: str,
    pit: PointInTime,
    loaded: LoadedPolicy,
    *,
    model_id: str | None,
    previous: str | None,
    person: str | None,
    build: BuildRows,
    origin: str | None = None,
    also: Sequence[AuditEntry] = (),
) -> ScoreRun:
    """One transaction: the run row, its rows (``build(con, run_id)``), the audit entry
    (which names the ``origin`` of rows computed elsewhere, e.g. a Spark run's digest), and
    ``also``: entries that must commit with the run or not at all (a fairness override)."""
    details: dict[str, object] = {
        "as_of": pit.as_of,
        "known_at": pit.corrections_known,
        "model_id": model_id,
        "policy": f"{loaded.name} {loaded.version} {loaded.digest}",
    }
    if origin is not None:
        details["origin"] = origin
    entry = AuditEntry(
        store.settings.actor,
        f"score_{kind}",
        target=f"person:{person}" if person else f"as_of:{pit.as_of}",
        purpose="off-cycle re-score" if person else "monthly scoring",
        details=details,
    )
    with store.write_many([*also, entry]) as con:
        seq = int(value(con, "SELECT coalesce(max(seq), 0) + 1 FROM score_runs"))
        run_id = f"{kind}-{pit.as_of:%Y%m%d}-{seq:06d}"
        count = build(con, run_id)
        insert(
            con,
            "score_runs",
            {
                "run_id": run_id,
                "seq": seq,
                "kind": kind,
                "as_of": pit.as_of,
                "known_at": pit.corrections_known,
                "model_id": model_id,
                "policy_name": loaded.name,
                "policy_version": loaded.version,
                "policy_digest": loaded.digest,
                "previous_run_id": previous,
                "person_id": person,
                "persons": count,
                "created_at": utcnow(),
            },
        )
    return ScoreRun(
        run_id=run_id,
        kind=kind,
        as_of=pit.as_of,
        known_at=pit.corrections_known,
        model_id=model_id,
        policy_name=loaded.name,
        policy_version=loaded.version,
        persons=count,
        previous_run_id=previous,
    )


def insert_snapshots(table: pa.Table) -> BuildRows:
    """Writes ``table`` (from :func:`~credo.scoring.snapshots.compute_snapshots`) as the run's
    rows, under the run's id."""

    def build(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
        rows = table.set_column(
            0, "run_id", pa.repeat(pa.scalar(run_id, pa.string()), table.num_rows)
        )
        with registered(con, "credo_new_snapshots", rows):
            con.execute("INSERT INTO score_snapshots SELECT * FROM credo_new_snapshots")
        return int(rows.num_rows)

    return build
