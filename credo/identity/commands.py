"""``credo resolve`` and ``credo review``: thin commands over ``credo.identity``.

Splink and pypinyin load inside the commands, so every other ``credo`` command starts
without them. A ``CredoError`` ends a command with one red line and its exit code.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from credo.errors import CredoError

__all__ = ["app", "resolve_command", "review_app"]

app = typer.Typer(help="Identity resolution.", no_args_is_help=True)
review_app = typer.Typer(
    help="The identity review queue: pairs the model was unsure of.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="Database file (default: $CREDO_DB or credo.duckdb).")
]


def _user_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CredoError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _open(db: Path | None) -> Any:
    from credo.settings import Settings
    from credo.store.db import Store

    try:
        values: dict[str, Any] = {} if db is None else {"db": db}
        settings = Settings(**values)
    except Exception as exc:  # pydantic's ValidationError: a bad CREDO_* value
        raise CredoError(f"invalid settings: {exc}") from None
    return Store.open(settings, create=False)


def _emit(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


@app.command("resolve")
@_user_errors
def resolve_command(
    train: Annotated[
        bool, typer.Option("--train", help="Retrain the linkage model on the current records.")
    ] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="Use this linkage model JSON file.")
    ] = None,
    model_out: Annotated[
        Path | None, typer.Option("--model-out", help="Also write the model used to this file.")
    ] = None,
    match_weight: Annotated[
        float | None, typer.Option(help="Auto-merge at or above this match weight.")
    ] = None,
    review_weight: Annotated[
        float | None, typer.Option(help="Send pairs from this weight up to review.")
    ] = None,
    explain: Annotated[
        str | None,
        typer.Option("--explain", metavar="PERSON", help="Explain one person instead."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve every source record to a stable person (exact rules, then Splink)."""
    from credo.identity import LinkageModel, explain_person, export_model, resolve

    with _open(db) as store:
        if explain is not None:
            _print_explanation(explain_person(store, explain), as_json)
            return
        given = LinkageModel.load(model) if model is not None else None
        report = resolve(
            store,
            train=train,
            model=given,
            match_weight=match_weight,
            review_weight=review_weight,
        )
        if model_out is not None:
            export_model(store, model_out)
    if as_json:
        _emit(report.to_dict())
        return
    trained = "trained" if report.trained else "used"
    out.print(
        f"{report.records:,} source records -> {report.persons:,} persons "
        f"({report.new_persons:,} new, {report.merges} merged, {report.splits} split); "
        f"{trained} model {report.model_id}; {report.rule_links:,} id-rule and "
        f"{report.model_links:,} model links; {report.reviews_new} new review item(s), "
        f"{report.reviews_pending} pending; {report.events_linked:,} events linked "
        f"({report.seconds:.1f} s).",
        highlight=False,
    )
    if report.reviews_pending:
        out.print("See the pending pairs with 'credo review list'.")


def _print_explanation(ex: Any, as_json: bool) -> None:
    if as_json:
        _emit(asdict(ex))
        return
    state = f"{ex.status}" + (f", merged into {ex.merged_into}" if ex.merged_into else "")
    out.print(f"[bold]{ex.person_id}[/] ({state}; since {ex.created_at:%Y-%m-%d})")
    records = Table("record", "source", "ref", "name", "born", "sex", "id", "phone", "address",
                    "events", title="Source records")  # fmt: skip
    for r in ex.records:
        records.add_row(
            r.record_id[:10],
            r.source,
            r.subject_ref or "",
            r.name or "",
            str(r.birth_date or ""),
            r.sex or "",
            "given" if r.national_id_given else "",
            "given" if r.phone_given else "",
            r.address or "",
            str(r.events),
        )
    out.print(records)
    links = Table("records", "why", "weight", "comparisons (level: weight)", title="Links")
    for link in ex.links:
        links.add_row(
            f"{link.record_l[:10]} - {link.record_r[:10]}",
            link.reason,
            "" if link.match_weight is None else f"{link.match_weight:.1f}",
            "; ".join(
                f"{c.comparison} {c.level}: {c.weight:+.1f}"
                for c in link.comparisons
                if c.level != "null"
            ),
        )
    out.print(links)
    for c in ex.changes:
        out.print(
            f"{c.changed_at:%Y-%m-%d} {c.kind}: {c.person_id} <- {', '.join(c.other_person_ids)}"
        )


@review_app.command("list")
@_user_errors
def review_list(
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all.")] = "pending",
    limit: Annotated[int, typer.Option(min=1, help="At most this many items.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List review items, strongest first."""
    from credo.identity import list_reviews

    with _open(db) as store:
        items = list_reviews(store, None if status == "all" else status, limit)  # type: ignore[arg-type]
    if as_json:
        _emit([asdict(i) | {"same_person_now": i.same_person_now} for i in items])
        return
    table = Table("id", "weight", "left", "right", "reason", "status", title="Identity review")
    for i in items:
        table.add_row(
            str(i.review_id),
            "" if i.match_weight is None else f"{i.match_weight:.1f}",
            f"{i.person_l} ({i.source_l})",
            f"{i.person_r} ({i.source_r})",
            i.reason + (" [already one person]" if i.same_person_now else ""),
            i.status,
        )
    out.print(table)


def _decision(accept: bool) -> Callable[..., None]:
    def command(
        review_id: Annotated[int, typer.Argument(help="The review item's id.")],
        note: Annotated[str | None, typer.Option(help="Why (kept with the decision).")] = None,
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        from credo.identity import accept_review, reject_review

        with _open(db) as store:
            decide = accept_review if accept else reject_review
            item = decide(store, review_id, note=note)
        if as_json:
            _emit(asdict(item))
            return
        out.print(
            f"Review {item.review_id} {item.status}; it takes effect at the next 'credo resolve'."
        )

    command.__doc__ = (
        "Accept a pair: the two records are one person, from now on."
        if accept
        else "Reject a pair: the two records are never merged, directly or not."
    )
    return _user_errors(command)


review_app.command("accept")(_decision(True))
review_app.command("reject")(_decision(False))
