"""CLI commands for the monthly scoring: ``train-bureau``, ``score``, ``rescore``, ``explain``.

Thin: parse, open the store, call :mod:`credo.scoring`, print. Heavy modules load inside each
command. Register with ``root.registered_commands.extend(app.registered_commands)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from credo.commandline import DbOpt, JsonOpt, emit_json, open_store, out, user_errors

__all__ = ["app", "explain", "rescore", "score", "train_bureau"]

app = typer.Typer(help="Monthly scoring.", no_args_is_help=True)

PolicyOpt = Annotated[str | None, typer.Option(help="Policy name or YAML file (default: zhima).")]
KnownOpt = Annotated[
    str | None,
    typer.Option(help="Data watermark: only events recorded by then (default: the newest)."),
]


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date like 2026-10-31", param_hint=option
        ) from None


def _timestamp(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a timestamp", param_hint="--known-at") from None


@app.command("train-bureau")
@user_errors
def train_bureau(
    as_of: Annotated[str, typer.Option(help="Observation date (features up to it).")],
    policy: PolicyOpt = None,
    known_at: KnownOpt = None,
    outcome_months: Annotated[
        int | None, typer.Option(help="Outcome window (default: the policy's, 12).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train the scorecard on Credo's own events at an observation date and register it."""
    from credo.scoring.train import train_model

    with open_store(db) as store:
        result = train_model(
            store,
            _date(as_of, "--as-of"),
            policy=policy,
            known_at=_timestamp(known_at),
            outcome_months=outcome_months,
        )
    data = result.to_dict()
    if as_json:
        emit_json(data)
        return
    out.print(
        f"Model {data['model_id']} ({data['model_version']}): {data['rows']:,} persons,"
        f" {data['bad_rows']:,} bad; {len(data['features'])} features; written to {data['path']}."
    )


@app.command()
@user_errors
def score(
    as_of: Annotated[str, typer.Option(help="Score as of this date (a month-end).")],
    model: Annotated[str | None, typer.Option(help="Model id, version or JSON file.")] = None,
    policy: PolicyOpt = None,
    known_at: KnownOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score every enrolled person (or run a points regime such as suining-2010)."""
    from credo.scoring.monthly import score as run

    with open_store(db) as store:
        result = run(store, _date(as_of, "--as-of"), model, policy, known_at=_timestamp(known_at))
        if result.kind == "regime":
            grades = store.con.execute(
                "SELECT grade, count(*) FROM points_balances WHERE run_id = ? GROUP BY 1"
                " ORDER BY 1",
                [result.run_id],
            ).fetchall()
            summary: dict[str, Any] = {"grades": dict(grades)}
        else:
            bands = store.con.execute(
                "SELECT band, count(*), min(score) FROM score_snapshots WHERE run_id = ?"
                " GROUP BY 1 ORDER BY 3",
                [result.run_id],
            ).fetchall()
            summary = {"bands": {b: n for b, n, _ in bands}}
    data = result.to_dict() | summary
    if as_json:
        emit_json(data)
        return
    out.print(f"Run {result.run_id}: {result.persons:,} persons scored as of {result.as_of}.")
    for key, value in summary.items():
        out.print(f"{key}: " + ", ".join(f"{k} {v:,}" for k, v in value.items()))


@app.command()
@user_errors
def rescore(
    person: Annotated[str, typer.Argument(help="Person id.")],
    as_of: Annotated[str, typer.Option(help="Score as of this date.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-score one person off-cycle (after a correction or a satisfied court listing)."""
    from credo.scoring.monthly import rescore_person

    with open_store(db) as store:
        result = rescore_person(store, person, _date(as_of, "--as-of"))
        row = store.con.execute(
            "SELECT score, band, reason_codes FROM score_snapshots WHERE run_id = ?",
            [result.run_id],
        ).fetchall()[0]
    data = result.to_dict() | {"score": row[0], "band": row[1], "reasons": row[2]}
    if as_json:
        emit_json(data)
    else:
        out.print(f"{person}: {row[0]:g} ({row[1]}) as of {result.as_of}; run {result.run_id}.")


@app.command()
@user_errors
def explain(
    person: Annotated[str, typer.Argument(help="Person id.")],
    as_of: Annotated[str | None, typer.Option(help="Latest score on or before this date.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Explain a person's score: sub-scores, reasons, points-table rows and the events behind."""
    from credo.scoring.explain import explain_score

    with open_store(db) as store:
        result = explain_score(store, person, _date(as_of, "--as-of") if as_of else None)
    if as_json:
        emit_json(result.to_dict())
        return
    low, high = result.score_range
    out.print(
        f"[bold]{person}[/]: {result.score:g} of {low}-{high} ({result.band}) as of"
        f" {result.as_of}; model {result.model_id}, policy {result.policy}"
    )
    for dim, sub in result.sub_scores.items():
        share = sub["share"]
        out.print(
            f"  {dim}: {sub['points']} points" + (f", {share:.0%}" if share is not None else "")
        )
    for r in result.reasons:
        out.print(f"  reason: {r['text']}")
    for i in result.improvements:
        out.print(f"  to improve: {i['text']}")
    for f in result.features:
        out.print(
            f"  {f['feature']} = {f['value']}: {f['bin']['description']} -> {f['points']:g}"
            f" points ({len(f['events'])} events)"
        )
