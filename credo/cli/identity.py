"""``credo resolve`` and ``credo review ...``: thin commands over ``credo.identity``.

Splink and pypinyin load inside the commands, so every other ``credo`` command starts
without them. A ``CredoError`` ends a command with one red line and its exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from credo.cli._common import DbOpt, JsonOpt, emit_json, open_store, out, user_errors

__all__ = ["resolve", "review_app"]

review_app = typer.Typer(
    help="The identity review queue: pairs the model was unsure of.", no_args_is_help=True
)


@user_errors
def resolve(
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
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Score only new records against existing persons (a full run where it "
            "cannot be exact).",
        ),
    ] = False,
    explain: Annotated[
        str | None,
        typer.Option("--explain", metavar="PERSON", help="Explain one person instead."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve every source record to a stable person (exact rules, then Splink)."""
    from credo.identity import LinkageModel, explain_person, export_model
    from credo.identity import resolve as run

    with open_store(db) as store:
        if explain is not None:
            _print_explanation(explain_person(store, explain), as_json)
            return
        given = LinkageModel.load(model) if model is not None else None
        report = run(
            store,
            train=train,
            model=given,
            match_weight=match_weight,
            review_weight=review_weight,
            incremental=incremental,
        )
        if model_out is not None:
            export_model(store, model_out)
    if as_json:
        emit_json(report.to_dict())
        return
    trained = "trained" if report.trained else "used"
    mode = report.mode + (f" ({report.full_because})" if report.full_because else "")
    out.print(
        f"{mode} run: {report.records:,} source records -> {report.persons:,} persons "
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
        emit_json(asdict(ex))
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
@user_errors
def review_list(
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all.")] = "pending",
    limit: Annotated[int, typer.Option(min=1, help="At most this many items.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List review items, strongest first."""
    from credo.identity import list_reviews

    with open_store(db) as store:
        items = list_reviews(store, None if status == "all" else status, limit)  # type: ignore[arg-type]
    if as_json:
        emit_json([asdict(i) | {"same_person_now": i.same_person_now} for i in items])
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

        with open_store(db) as store:
            decide = accept_review if accept else reject_review
            item = decide(store, review_id, note=note)
        if as_json:
            emit_json(asdict(item))
            return
        out.print(
            f"Review {item.review_id} {item.status}; it takes effect at the next 'credo resolve'."
        )

    command.__doc__ = (
        "Accept a pair: the two records are one person, from now on."
        if accept
        else "Reject a pair: the two records are never merged, directly or not."
    )
    return user_errors(command)


review_app.command("accept")(_decision(True))
review_app.command("reject")(_decision(False))
