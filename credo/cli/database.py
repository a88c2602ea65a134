"""``credo init``, ``credo status`` and ``credo audit verify``: the database itself."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from credo.cli._common import (
    DbOpt,
    JsonOpt,
    emit_json,
    open_store,
    out,
    parse_date,
    settings_for,
    user_errors,
)
from credo.cli._server import store_or_server
from credo.errors import IntegrityError

__all__ = ["audit_app", "audit_verify", "compact", "init", "retention", "status"]

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@user_errors
def init(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Create (or migrate) the database and its identifier key."""
    from credo.store.db import Store

    settings = settings_for(db)
    with Store.open(settings, create=True) as store:
        info = {
            "db": str(settings.db),
            "schema_version": store.schema_version(),
            "key_file": str(settings.resolved_key_file) if not settings.secret_key else None,
        }
    if as_json:
        emit_json(info)
    else:
        out.print(f"Database {info['db']} is ready (schema version {info['schema_version']}).")


@user_errors
def status(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """What the database holds: events by type and source, loads, quarantine, audit."""
    from credo.store.status import status_data

    data = store_or_server(db, status_data, lambda admin: admin.status())
    if as_json:
        emit_json(data)
        return
    _print_status(data)


def _print_status(data: dict[str, Any]) -> None:
    out.print(f"[bold]{data['db']}[/] (schema version {data['schema_version']})")
    table = Table("source", "loads", "rows read", "events", "rejected", title="Sources")
    for s in data["sources"]:
        table.add_row(
            s["source"],
            str(s["loads"]),
            f"{s['rows_read']:,}",
            f"{s['events']:,}",
            f"{s['rejected']:,}",
        )
    out.print(table)
    types = Table("event type", "events", title="Events")
    for t, n in data["events_by_type"].items():
        types.add_row(t, f"{n:,}")
    out.print(types)
    out.print(
        f"{data['events']:,} events, {data['quarantined_rows']:,} quarantined rows, "
        f"{data['persons']:,} persons, {data['identifiers_held']:,} encrypted identifiers, "
        f"{data['audit_entries']:,} audit entries."
    )
    _print_scoring(data)


def _print_scoring(data: dict[str, Any]) -> None:
    runs = ", ".join(
        f"{r['runs']:,} {kind} (last as of {r['last_as_of']})"
        for kind, r in data["score_runs"].items()
    )
    out.print(f"Score runs: {runs or 'none yet (credo score --as-of DATE)'}.", highlight=False)
    last = data["latest_monthly_run"]
    if last:
        out.print(
            f"Latest monthly run {last['run_id']}: {last['persons']:,} persons as of "
            f"{last['as_of']}, model {last['model_id']}.",
            highlight=False,
        )
    model = data["latest_model"]
    trained = (
        f"; latest {model['model_id']} trained as of {model['trained_as_of']}" if model else ""
    )
    out.print(f"Models: {data['models']}{trained}.", highlight=False)
    disputes = ", ".join(f"{n:,} {status}" for status, n in data["disputes"].items())
    out.print(f"Disputes: {disputes or 'none'}.", highlight=False)


@user_errors
def compact(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Rewrite the database file with its live rows only, so deleted rows leave no bytes."""
    from credo.store.compact import compact as rewrite

    report = rewrite(settings_for(db))
    if as_json:
        emit_json(report.to_dict())
    else:
        out.print(
            f"Rewrote {settings_for(db).db}: {report.bytes_before:,} bytes before,"
            f" {report.bytes_after:,} after ({report.seconds} s)."
        )


@user_errors
def retention(
    as_of: Annotated[str, typer.Option(help="Purge what is obsolete on this date.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete the adverse items past the rules profile's retention (run monthly), audited."""
    from credo.scoring.retention import retention_run

    with open_store(db) as store:
        report = retention_run(store, parse_date(as_of, "--as-of"), actor="cli")
    if as_json:
        emit_json(report.to_dict())
    else:
        purged = ", ".join(f"{n} {kind}" for kind, n in sorted(report.purged.items())) or "nothing"
        out.print(
            f"Retention as of {report.as_of} ({report.profile}: {report.adverse_years} years from"
            f" {report.clock}): purged {purged}; 'credo compact' removes their bytes."
        )


@audit_app.command("verify")
@user_errors
def audit_verify(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Walk the hash chain; name the first entry that was altered, removed or reordered."""
    from credo.store.audit import verify

    data = store_or_server(
        db, lambda store: verify(store.con).to_dict(), lambda admin: admin.audit_verify()
    )
    if as_json:
        emit_json(data)
    elif data["ok"]:
        out.print(f"Audit chain intact: {data['entries_verified']:,} entries; head {data['head']}.")
    if not data["ok"]:
        raise IntegrityError(
            f"audit chain broken at entry {data['broken_at']}: {data['problem']} "
            f"({data['entries_verified']} entries before it verify)"
        )
