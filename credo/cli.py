"""The ``credo`` command: a thin adapter that parses, calls the library, and reports.

A ``CredoError`` becomes one line on stderr ("error: ...", with what to do) and the exit code
its class carries (see ``credo --help``); ``--json`` prints machine-readable results instead
of tables.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from credo import __version__
from credo.commandline import DbOpt, JsonOpt, emit_json, err, out, print_error, settings_for
from credo.errors import CredoError, IntegrityError
from credo.settings import Settings

EXIT_CODES = """Exit codes: 0 ok; 1 failure; 2 bad setting, mapping or policy file (or usage);
3 a data file or request Credo cannot accept; 4 not found; 5 conflict (a record id reused
with other values); 6 the database cannot be used (locked, newer schema); 7 tamper evidence
(audit chain broken); 8 model error; 9 refused by the service's rules (credentials,
scope, consent, frozen file)."""

app = typer.Typer(
    name="credo",
    help="Credo: an open-source credit-and-trust scoring platform.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_library_commands(root: typer.Typer) -> None:
    """Commands that live beside their library (each imports its heavy parts lazily).

    The two trainers share the name ``train`` (see ``train`` below), so they are not
    registered under their own names.
    """
    from credo.api.commands import app as api_app
    from credo.api.commands import disputes_app
    from credo.identity.commands import app as identity_app
    from credo.identity.commands import review_app
    from credo.models.commands import app as models_app
    from credo.scoring.commands import app as scoring_app

    root.add_typer(review_app, name="review")
    root.add_typer(disputes_app, name="disputes")
    for sub in (identity_app, models_app, scoring_app, api_app):
        root.registered_commands.extend(
            c
            for c in sub.registered_commands
            if str(c.name or getattr(c.callback, "__name__", "")).replace("-", "_")
            not in ("train", "train_bureau")
        )


audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@contextmanager
def _steps(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner naming the current step; silent for --json and when not a terminal."""
    if not enabled or not err.is_terminal:
        yield lambda _name: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting")
        yield lambda name: progress.update(task, description=name)


def _store(settings: Settings, *, create: bool = True) -> Any:
    from credo.store.db import Store

    return Store.open(settings, create=create)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"credo {__version__}")
        raise typer.Exit()


@app.command()
def init(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Create (or migrate) the database and its identifier key."""
    settings = settings_for(db)
    with _store(settings) as store:
        info = {
            "db": str(settings.db),
            "schema_version": store.schema_version(),
            "key_file": str(settings.resolved_key_file) if not settings.secret_key else None,
        }
    if as_json:
        emit_json(info)
    else:
        out.print(f"Database {info['db']} is ready (schema version {info['schema_version']}).")


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the population to.")],
    people: Annotated[int, typer.Option(min=1, help="Number of persons.")] = 10_000,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    end: Annotated[str, typer.Option(help="Last day of the history (YYYY-MM-DD).")] = "2026-10-31",
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic population: every source's files and mapping, and the ground truth."""
    from credo.sim import generate as run

    try:
        end_date = dt.date.fromisoformat(end)
    except ValueError:
        raise typer.BadParameter(
            f"{end!r} is not a date like 2026-10-31", param_hint="--end"
        ) from None
    with _steps(not as_json) as step:
        step(f"generating {people:,} persons over {months} months")
        summary = run(people, months, seed, out_dir, end_date)
    if as_json:
        emit_json(summary.to_dict())
        return
    table = Table("source", "format", "rows", title=f"Population written to {out_dir}")
    for f in summary.files:
        table.add_row(f.source, f.format, f"{f.rows:,}")
    out.print(table)
    out.print(f"{summary.persons:,} persons; {summary.invalid_rows} rows are invalid on purpose.")


def _load_table(reports: list[Any]) -> Table:
    table = Table("source", "file", "read", "accepted", "new", "duplicate", "rejected", "encoding")
    for r in reports:
        note = f" (already loaded as load {r.already_loaded_as})" if r.already_loaded_as else ""
        table.add_row(
            r.source,
            r.file + note,
            f"{r.rows_read:,}",
            f"{r.rows_accepted:,}",
            f"{r.rows_new:,}",
            f"{r.rows_duplicate:,}",
            f"{r.rows_rejected:,}",
            r.encoding or "-",
        )
    return table


def _reasons_table(reports: list[Any]) -> Table | None:
    rows = [(r.source, x.field, x.reason, x.rows) for r in reports for x in r.reasons]
    if not rows:
        return None
    table = Table("source", "field", "reason", "rows", title="Most common reasons for rejection")
    for source, field, reason, n in sorted(rows, key=lambda x: -x[3])[:10]:
        table.add_row(source, field, reason, f"{n:,}")
    return table


@app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(help="CSV, JSON Lines or Parquet file, or a population folder.")
    ],
    source: Annotated[str | None, typer.Option(help="Source name (required for a file).")] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping YAML for the file's layout.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding (default: UTF-8, GB18030 detected).")
    ] = None,
    max_reject_rate: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Share of bad rows allowed while the rest loads."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load a source file as events: atomic, idempotent, bad rows quarantined."""
    from credo.ingest.batch import ingest_population
    from credo.ingest.loader import ingest as run
    from credo.ingest.mapping import load_mapping

    settings = settings_for(db)
    with _store(settings) as store, _steps(not as_json) as step:
        if file.is_dir():
            reports = ingest_population(
                store,
                file,
                max_reject_rate=max_reject_rate,
                on_file=lambda s, i, n: step(f"[{i + 1}/{n}] {s}"),
            )
        else:
            if source is None:
                raise typer.BadParameter("name the file's source", param_hint="--source")
            m = load_mapping(mapping) if mapping is not None else None
            reports = [
                run(
                    store,
                    file,
                    source,
                    m,
                    encoding=encoding,
                    max_reject_rate=max_reject_rate,
                    progress=step,
                )
            ]
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    out.print(_load_table(reports))
    reasons = _reasons_table(reports)
    if reasons is not None:
        out.print(reasons)
        out.print("See every rejected row with 'credo quarantine'.")


@app.command()
def quarantine(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    load: Annotated[int | None, typer.Option(help="Only this load id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List rejected rows with file, row number, field and reason."""
    settings = settings_for(db)
    where: list[str] = []
    params: list[Any] = []
    if source is not None:
        where.append("source = ?")
        params.append(source)
    if load is not None:
        where.append("load_id = ?")
        params.append(load)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    with _store(settings, create=False) as store:
        total = store.scalar(f"SELECT count(*) FROM quarantine {clause}", params)
        rows = store.con.execute(
            "SELECT load_id, source, file_name, row_no, field, reason, raw_value FROM quarantine "
            f"{clause} ORDER BY load_id, row_no, field LIMIT ?",
            [*params, limit],
        ).fetchall()
    keys = ["load", "source", "file", "row", "field", "reason", "value"]
    if as_json:
        emit_json({"total": total, "rows": [dict(zip(keys, r, strict=True)) for r in rows]})
        return
    table = Table(*keys, title=f"Quarantine: {total:,} rejected field values")
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    out.print(table)
    if total > len(rows):
        out.print(f"Showing {len(rows)} of {total:,}; use --limit, --source or --load.")


def status_data(store: Any) -> dict[str, Any]:
    con = store.con
    by_type = con.execute(
        "SELECT event_type, count(*) FROM events GROUP BY ALL ORDER BY 2 DESC, 1"
    ).fetchall()
    by_source = con.execute(
        "SELECT l.source, count(*) AS loads, sum(rows_read), sum(rows_new), sum(rows_rejected) "
        "FROM loads l GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return {
        "db": str(store.path),
        "schema_version": store.schema_version(),
        "events": int(store.scalar("SELECT count(*) FROM events")),
        "events_by_type": {t: int(n) for t, n in by_type},
        "sources": [
            {
                "source": s,
                "loads": int(n),
                "rows_read": int(r),
                "events": int(e),
                "rejected": int(q),
            }
            for s, n, r, e, q in by_source
        ],
        "quarantined_rows": int(
            store.scalar("SELECT count(DISTINCT (load_id, row_no)) FROM quarantine")
        ),
        "persons": int(store.scalar("SELECT count(*) FROM persons")),
        "identifiers_held": int(store.scalar("SELECT count(*) FROM pii_vault")),
        "audit_entries": int(store.scalar("SELECT count(*) FROM audit_log")),
    }


@app.command()
def status(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """What the database holds: events by type and source, loads, quarantine, audit."""
    settings = settings_for(db)
    with _store(settings, create=False) as store:
        data = status_data(store)
    if as_json:
        emit_json(data)
        return
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


@audit_app.command("verify")
def audit_verify(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Walk the hash chain; name the first entry that was altered, removed or reordered."""
    from credo.store.audit import verify

    settings = settings_for(db)
    with _store(settings, create=False) as store:
        report = verify(store.con)
    data = {
        "ok": report.ok,
        "entries_verified": report.entries,
        "head": report.head,
        "broken_at": report.broken_at,
        "problem": report.problem,
    }
    if as_json:
        emit_json(data)
    elif report.ok:
        out.print(f"Audit chain intact: {report.entries:,} entries; head {report.head}.")
    if not report.ok:
        raise IntegrityError(
            f"audit chain broken at entry {report.broken_at}: {report.problem} "
            f"({report.entries} entries before it verify)"
        )


@app.command()
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its files.")] = Path(
        "demo"
    ),
    people: Annotated[int, typer.Option(min=10, help="Persons in the demo population.")] = 10_000,
    months: Annotated[int, typer.Option(min=3, max=120, help="Months of history.")] = 12,
    fresh: Annotated[bool, typer.Option(help="Start from an empty database.")] = False,
    serve: Annotated[
        bool, typer.Option(help="End by serving the pages and the API on 127.0.0.1.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8650,
    as_json: JsonOpt = False,
) -> None:
    """Generate a population, load it, resolve persons, train, score every month, report, and
    serve the person's page and the operator's console."""
    from credo.dashboard.demo import demo_logins
    from credo.identity import resolve
    from credo.ingest.batch import ingest_population
    from credo.scoring import run_demo_scoring
    from credo.sim import generate as run_generate

    folder.mkdir(parents=True, exist_ok=True)
    population = folder / "population"
    settings = settings_for(folder / "credo.duckdb")
    if fresh:
        for p in (settings.db, settings.db.with_suffix(".duckdb.wal"), settings.resolved_key_file):
            p.unlink(missing_ok=True)
        shutil.rmtree(population, ignore_errors=True)
    started = time.perf_counter()
    with _steps(not as_json) as step:
        step(f"generating {people:,} persons over {months} months")
        summary = run_generate(people, months, 7, population)
        with _store(settings) as store:
            reports = ingest_population(
                store,
                population,
                max_reject_rate=0.01,
                on_file=lambda s, i, n: step(f"loading [{i + 1}/{n}] {s}"),
            )
            step("resolving source records to persons")
            resolved = resolve(store)
            step(f"training the scorecard and scoring {months} month-ends")
            scored = run_demo_scoring(store, months=months)
            data = status_data(store)
            logins = demo_logins(store) if serve or as_json else []
    seconds = time.perf_counter() - started
    if as_json:
        emit_json(
            {
                "population": summary.to_dict(),
                "loads": [r.to_dict() for r in reports],
                "resolve": resolved.to_dict(),
                "scoring": scored.to_dict(),
                "status": data,
                "logins": [login.to_dict() for login in logins],
                "seconds": round(seconds, 1),
            }
        )
        if serve:
            _serve_demo(settings, port, logins, quiet=True)
        return
    out.print(
        f"[bold]Credo demo[/]: {summary.persons:,} persons, {summary.total_rows:,} source rows "
        f"in {len(summary.files)} sources, written to {population}."
    )
    out.print(_load_table(reports))
    reasons = _reasons_table(reports)
    if reasons is not None:
        out.print(reasons)
    out.print(
        f"Identity: {resolved.records:,} source records resolved to {resolved.persons:,} persons "
        f"({resolved.reviews_pending} pairs wait in the review queue)."
    )
    _print_scores(scored)
    out.print(
        f"Database {settings.db}: {data['events']:,} events, {data['quarantined_rows']:,} rows in "
        f"quarantine, {data['audit_entries']:,} audit entries ({seconds:.0f} s). "
        f"Try: credo explain PERSON --db {settings.db}"
    )
    if serve:
        _serve_demo(settings, port, logins, quiet=False)


def _serve_demo(settings: Settings, port: int, logins: list[Any], *, quiet: bool) -> None:
    """Serve the demo database; print where to sign in, as whom, and the operator's token."""
    import uvicorn

    from credo.api.app import create_app
    from credo.api.service import load_admin_token
    from credo.api.settings import ApiSettings

    overrides: dict[str, Any] = {"host": "127.0.0.1", "port": port}
    api = ApiSettings(**overrides)
    token = load_admin_token(settings, api)
    base = f"http://127.0.0.1:{port}"
    console = err if quiet else out
    console.print(f"[bold]Sign in[/] at {base}/login as:", soft_wrap=True)
    for login in logins:
        console.print(
            f"  {login.person}  {login.name or ''}  {login.score:.0f} ({login.band}), "
            f"{login.role}: one-time code {login.code}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"Operator console: {base}/console (admin token {token}, also in "
        f"{settings.db.with_suffix('.admin-token')}). Each code works once, for 12 hours; the "
        "console issues new ones. Press Ctrl+C to stop.",
        soft_wrap=True,
    )
    uvicorn.run(
        create_app(settings, api), host="127.0.0.1", port=port, workers=1, log_level="warning"
    )


def _print_scores(scored: Any) -> None:
    last = scored.months[-1]
    table = Table("band", "persons", "share", title=f"Scores on {last} (model {scored.model_id})")
    for band, n in scored.bands.items():
        table.add_row(band, f"{n:,}", f"{n / max(scored.persons, 1):.1%}")
    out.print(table)
    out.print(
        f"{scored.persons:,} enrolled persons scored for {len(scored.months)} month-ends; "
        f"{scored.share_below_550:.1%} below 550."
    )
    from credo.features import CATALOGUE

    described = {f.name: f.description for f in CATALOGUE}
    top = Table("reason", "persons", title="Most common reasons (points lost against the best)")
    for code, n in scored.top_reasons:
        top.add_row(described.get(str(code), str(code)), f"{n:,}")
    out.print(top)
    ex = scored.example
    if ex:
        out.print(
            f"[bold]Person {ex['person_id']}[/]: {ex['score']:.0f} ({ex['band']}) on {ex['as_of']}"
        )
        for dim, sub in ex["sub_scores"].items():
            share = sub.get("share")
            shown = f"{share:.0%}" if isinstance(share, float) else "-"
            out.print(f"  {dim}: {sub.get('points')} points, {shown} of the most")
        for r in ex["reasons"]:
            out.print(f"  reason: {r.get('text') or r.get('reason') or r}")
        for imp in ex["improvements"][:3]:
            out.print(f"  to improve: {imp.get('text') or imp}")


@app.command()
def train(
    as_of: Annotated[
        str | None, typer.Option(help="Train on Credo's own events observed at this date.")
    ] = None,
    table: Annotated[
        Path | None, typer.Option(help="Or train on this CSV/Parquet table with a target column.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="With --table: the outcome column.")] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="With --table: where to write the points table.")
    ] = None,
    bad: Annotated[str | None, typer.Option(help="With --table: the value meaning bad.")] = None,
    dimension_map: Annotated[
        Path | None, typer.Option(help="With --table: YAML/JSON feature -> dimension.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="With --table: a column to leave out; repeatable.")
    ] = None,
    model_version: Annotated[str, typer.Option(help="With --table: version label.")] = "1",
    policy: Annotated[
        str | None, typer.Option(help="With --as-of: policy name or YAML file (default: zhima).")
    ] = None,
    known_at: Annotated[
        str | None, typer.Option(help="With --as-of: only events recorded by then.")
    ] = None,
    outcome_months: Annotated[
        int | None, typer.Option(help="With --as-of: outcome window (default: the policy's).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit a scorecard: on Credo's events (--as-of) or on any table (--table --target --out)."""
    if (as_of is None) == (table is None):
        raise typer.BadParameter("give either --as-of (Credo's events) or --table (a file)")
    if table is not None:
        if target is None or out_path is None:
            raise typer.BadParameter("--table needs --target and --out")
        from credo.models.commands import train as train_table

        train_table(
            table=table,
            target=target,
            out_path=out_path,
            bad=bad,
            dimension_map=dimension_map,
            exclude=exclude,
            model_version=model_version,
        )
        return
    from credo.scoring.commands import train_bureau

    train_bureau(
        as_of=str(as_of),
        policy=policy,
        known_at=known_at,
        outcome_months=outcome_months,
        db=db,
        as_json=as_json,
    )


_register_library_commands(app)


def main() -> None:
    """Entry point: usage errors are click's (exit 2); a CredoError is one clean line."""
    try:
        app()
    except CredoError as exc:
        print_error(exc)
        sys.exit(exc.exit_code)
