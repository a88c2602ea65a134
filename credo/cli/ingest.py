"""``credo generate``, ``credo ingest`` and ``credo quarantine``: data in, and what was refused."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from credo.cli._common import (
    DbOpt,
    JsonOpt,
    emit_json,
    open_store,
    out,
    parse_date,
    steps,
    user_errors,
)
from credo.cli._server import store_or_server

__all__ = ["generate", "ingest", "load_table", "quarantine", "reasons_table"]


@user_errors
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the population to.")],
    people: Annotated[int, typer.Option(min=1, help="Number of persons.")] = 10_000,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    end: Annotated[str, typer.Option(help="Last day of the history (YYYY-MM-DD).")] = "2026-10-31",
    identity_hardness: Annotated[
        Literal["easy", "realistic", "hard"],
        typer.Option(
            help="How hard the records make identity resolution: rates of typos, twins, "
            "namesakes, names in the other script, married names, missing ids and phones."
        ),
    ] = "realistic",
    compress: Annotated[
        bool, typer.Option(help="Write the CSV and JSON Lines files gzipped (name.csv.gz).")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            help="Go on from the sources a stopped run of the same arguments finished "
            "(kept in OUT/.generate until the run is whole)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic population: every source's files and mapping, and the ground truth."""
    from credo.sim import HARDNESS
    from credo.sim import generate as run

    end_date = parse_date(end, "--end")
    with steps(not as_json) as step:
        step(f"generating {people:,} persons over {months} months ({identity_hardness})")
        summary = run(
            people,
            months,
            seed,
            out_dir,
            end_date,
            noise=HARDNESS[identity_hardness],
            compress=compress,
            resume=resume,
        )
    if as_json:
        emit_json(summary.to_dict())
        return
    table = Table("source", "format", "rows", title=f"Population written to {out_dir}")
    for f in summary.files:
        table.add_row(f.source, f.format, f"{f.rows:,}")
    out.print(table)
    out.print(f"{summary.persons:,} persons; {summary.invalid_rows} rows are invalid on purpose.")


def load_table(reports: list[Any]) -> Table:
    """One row per loaded file: rows read, accepted, new, duplicate, rejected."""
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


def reasons_table(reports: list[Any]) -> Table | None:
    """The ten most common reasons for rejection, or None when nothing was rejected."""
    rows = [(r.source, x.field, x.reason, x.rows) for r in reports for x in r.reasons]
    if not rows:
        return None
    table = Table("source", "field", "reason", "rows", title="Most common reasons for rejection")
    for source, field, reason, n in sorted(rows, key=lambda x: -x[3])[:10]:
        table.add_row(source, field, reason, f"{n:,}")
    return table


@user_errors
def ingest(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV, JSON Lines (either may be gzipped: .csv.gz, .jsonl.gz) or Parquet file, "
            "or a population folder."
        ),
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
    from credo.policy.bases import withheld_for
    from credo.rights.court_feed import apply_court_feed

    with open_store(db, create=True) as store, steps(not as_json) as step:
        if file.is_dir():
            reports = ingest_population(
                store,
                file,
                max_reject_rate=max_reject_rate,
                on_file=lambda s, i, n: step(f"[{i + 1}/{n}] {s}"),
                withheld=withheld_for(store.settings),
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
                    withheld=withheld_for(store.settings),
                )
            ]
            if reports[0].load_id is not None:  # the court's satisfactions count at once
                apply_court_feed(store, reports[0].load_id)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    out.print(load_table(reports))
    reasons = reasons_table(reports)
    if reasons is not None:
        out.print(reasons)
        out.print("See every rejected row with 'credo quarantine'.")


@user_errors
def quarantine(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    load: Annotated[int | None, typer.Option(help="Only this load id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List rejected rows with file, row number, field and reason."""
    from credo.ingest.quarantine import quarantined

    def local(store: Any) -> dict[str, Any]:
        page = quarantined(store, source=source, load=load, limit=limit)
        return {"total": page.total, "rows": page.rows}

    found = store_or_server(db, local, lambda admin: admin.quarantine(source, load, limit))
    if as_json:
        emit_json(found)
        return
    total, shown = found["total"], found["rows"]
    keys = ["load", "source", "file", "row", "field", "reason", "value"]
    table = Table(*keys, title=f"Quarantine: {total:,} rejected field values")
    for r in shown:
        table.add_row(*("" if r[k] is None else str(r[k]) for k in keys))
    out.print(table)
    if total > len(shown):
        out.print(f"Showing {len(shown)} of {total:,}; use --limit, --source or --load.")
