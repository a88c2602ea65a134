"""What a database holds, counted: the summary behind ``credo status`` and the demo's report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from credo.store.rows import one, rows

if TYPE_CHECKING:
    from credo.store.db import Store

__all__ = ["status_data"]


def status_data(store: Store) -> dict[str, Any]:
    """Events by type and source, loads, quarantined rows, persons, identifiers, audit entries,
    score runs, models and disputes."""
    con = store.con
    by_type = rows(
        con, "SELECT event_type, count(*) AS n FROM events GROUP BY ALL ORDER BY 2 DESC, 1"
    )
    by_source = rows(
        con,
        "SELECT l.source, count(*) AS loads, sum(rows_read) AS rows_read,"
        " sum(rows_new) AS events, sum(rows_rejected) AS rejected"
        " FROM loads l GROUP BY ALL ORDER BY 1",
    )
    return {
        "db": str(store.path),
        "schema_version": store.schema_version(),
        "events": int(store.scalar("SELECT count(*) FROM events")),
        "events_by_type": {r["event_type"]: int(r["n"]) for r in by_type},
        "sources": [
            {
                "source": s["source"],
                "loads": int(s["loads"]),
                "rows_read": int(s["rows_read"]),
                "events": int(s["events"]),
                "rejected": int(s["rejected"]),
            }
            for s in by_source
        ],
        "quarantined_rows": int(
            store.scalar("SELECT count(DISTINCT (load_id, row_no)) FROM quarantine")
        ),
        "persons": int(store.scalar("SELECT count(*) FROM persons")),
        "identifiers_held": int(store.scalar("SELECT count(*) FROM pii_vault")),
        "audit_entries": int(store.scalar("SELECT count(*) FROM audit_log")),
        **_scoring(store),
    }


def _scoring(store: Store) -> dict[str, Any]:
    """Score runs (the latest monthly one), models (the latest) and disputes by status."""
    runs = rows(
        store.con,
        "SELECT kind, count(*) AS n, max(as_of) AS last_as_of FROM score_runs GROUP BY ALL"
        " ORDER BY 1",
    )
    latest = one(
        store.con,
        "SELECT run_id, as_of, model_id, persons FROM score_runs WHERE kind = 'monthly'"
        " ORDER BY seq DESC LIMIT 1",
    )
    model = one(
        store.con,
        "SELECT model_id, trained_as_of, created_at FROM models ORDER BY seq DESC LIMIT 1",
    )
    disputes = rows(store.con, "SELECT status, count(*) AS n FROM disputes GROUP BY ALL ORDER BY 1")
    return {
        "score_runs": {
            r["kind"]: {"runs": int(r["n"]), "last_as_of": r["last_as_of"]} for r in runs
        },
        "latest_monthly_run": latest,
        "models": int(store.scalar("SELECT count(*) FROM models")),
        "latest_model": model,
        "disputes": {r["status"]: int(r["n"]) for r in disputes},
    }
