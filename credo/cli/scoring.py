"""The monthly scoring: ``credo train --as-of`` (the bureau form), ``score``, ``rescore``,
``explain``.

Thin: parse, open the store, call :mod:`credo.scoring`, print. Heavy modules load inside each
command.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credo.cli._common import (
    DbOpt,
    GateProductsOpt,
    JsonOpt,
    OverrideWhyOpt,
    emit_json,
    open_store,
    out,
    parse_date,
    parse_timestamp,
    user_errors,
)
from credo.cli._server import store_or_server
from credo.errors import ConfigError

if TYPE_CHECKING:
    from credo.policy.products import ProductsPolicy
    from credo.scoring.runs import ScoreRun
    from credo.store.db import Store

__all__ = ["explain", "rescore", "score", "train_on_events"]

PolicyOpt = Annotated[str | None, typer.Option(help="Policy name or YAML file (default: zhima).")]
KnownOpt = Annotated[
    str | None,
    typer.Option(help="Data watermark: only events recorded by then (default: the newest)."),
]


def train_on_events(
    as_of: str,
    *,
    policy: str | None,
    known_at: str | None,
    outcome_months: int | None,
    db: Path | None,
    as_json: bool,
) -> None:
    """Train the scorecard on Credo's own events at an observation date and register it."""
    from credo.scoring.train import train_model

    with open_store(db) as store:
        result = train_model(
            store,
            parse_date(as_of, "--as-of"),
            policy=policy,
            known_at=parse_timestamp(known_at),
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


def print_standing(standing: dict[str, Any]) -> None:
    """A person's balance, grade and ledger under a points regime, one entry a line."""
    out.print(
        f"  {standing['person_id']} under {standing['regime']} as of {standing['as_of']}:"
        f" balance {standing['balance']:,} (start {standing['start']}), grade"
        f" {standing['grade']}"
        + (f": {standing['consequences']}" if standing["consequences"] else "")
    )
    for e in standing["ledger"]:
        out.print(
            f"    {e['points']:+d} {e['rule']} ({e['rule_text']}): {e['event_type']} event"
            f" {e['event_id']}, {e['source']} record {e['source_record_id']},"
            f" {str(e['occurred_at'])[:10]}"
        )


@user_errors
def score(
    as_of: Annotated[str, typer.Option(help="Score as of this date (a month-end).")],
    model: Annotated[str | None, typer.Option(help="Model id, version or JSON file.")] = None,
    policy: PolicyOpt = None,
    known_at: KnownOpt = None,
    engine: Annotated[str, typer.Option(help="duckdb (the store) or spark (--lake).")] = "duckdb",
    lake: Annotated[Path | None, typer.Option(help="The lake a Spark run reads.")] = None,
    override_why: OverrideWhyOpt = None,
    products: GateProductsOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score every enrolled person (or run a points regime such as suining-2010). With
    protected attributes loaded, the fairness gate audits the run before it is written."""
    from credo.scoring.standing import lowest_standings
    from credo.scoring.summaries import run_summary

    day, known = parse_date(as_of, "--as-of"), parse_timestamp(known_at)
    with open_store(db) as store:
        from credo.policy.products import load_products

        offers = None if products is None else load_products(products)
        if engine == "spark":
            result = _score_on_spark(store, lake, model, policy, day, known, override_why, offers)
        elif engine == "duckdb" and lake is None:
            from credo.scoring.monthly import score as run

            result = run(
                store, day, model, policy, known_at=known, override_why=override_why,
                products=offers,
            )  # fmt: skip
        else:
            raise ConfigError(
                f"--engine {engine!r}" + (" with --lake" if engine == "duckdb" else ""),
                hint="--engine duckdb scores the store; --engine spark --lake DIR scores a lake",
            )
        summary = run_summary(store, result.run_id, result.kind)
        lowest = (
            [s.to_dict() for s in lowest_standings(store, result.run_id)]
            if result.kind == "regime"
            else []
        )
    data = result.to_dict() | summary | ({"lowest_balances": lowest} if lowest else {})
    if as_json:
        emit_json(data)
        return
    out.print(f"Run {result.run_id}: {result.persons:,} persons scored as of {result.as_of}.")
    for key, value in summary.items():
        out.print(f"{key}: " + ", ".join(f"{k} {v:,}" for k, v in value.items()))
    if lowest:
        out.print("Lowest balances with their ledgers:")
    for standing in lowest:
        print_standing(standing)


def _score_on_spark(
    store: Store,
    lake: Path | None,
    model: str | None,
    policy: str | None,
    day: dt.date,
    known: dt.datetime | None,
    override_why: str | None,
    products: ProductsPolicy | None,
) -> ScoreRun:
    """The Spark run reads the lake's own model and policy, chosen when it was exported; the
    fairness gate audits its scores before they are written, as for a DuckDB run."""
    from credo.spark.lake import Lake
    from credo.spark.runs import score_on_spark

    if lake is None or model is not None or policy is not None:
        raise ConfigError(
            "--engine spark needs --lake DIR, and takes the lake's model and policy",
            hint="choose them with 'credo export --lake DIR --model ... --policy ...'",
        )
    return score_on_spark(
        store, Lake.open(lake), day, known_at=known, override_why=override_why, products=products
    )


@user_errors
def rescore(
    person: Annotated[str, typer.Argument(help="Person id.")],
    as_of: Annotated[str, typer.Option(help="Score as of this date.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-score one person off-cycle (after a correction or a satisfied court listing)."""
    from credo.scoring.monthly import rescore_person
    from credo.scoring.summaries import rescored_snapshot

    with open_store(db) as store:
        result = rescore_person(store, person, parse_date(as_of, "--as-of"))
        snapshot = rescored_snapshot(store, result.run_id)
    data = result.to_dict() | {
        "score": snapshot.score,
        "band": snapshot.band,
        "reasons": snapshot.reasons,
    }
    if as_json:
        emit_json(data)
    else:
        out.print(
            f"{person}: {snapshot.score:g} ({snapshot.band}) as of {result.as_of};"
            f" run {result.run_id}."
        )


@user_errors
def explain(
    person: Annotated[str, typer.Argument(help="Person id.")],
    as_of: Annotated[str | None, typer.Option(help="Latest score on or before this date.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Explain a person's score: sub-scores, reasons, points-table rows and the events behind."""
    from credo.scoring.explain import explain_score

    day = parse_date(as_of, "--as-of") if as_of else None
    result = store_or_server(
        db,
        lambda store: explain_score(store, person, day).to_dict(),
        lambda admin: admin.explain(person, str(day) if day else None),
    )
    if as_json:
        emit_json(result)
        return
    low, high = result["score_range"]
    out.print(
        f"[bold]{person}[/]: {result['score']:g} of {low}-{high} ({result['band']}) as of"
        f" {result['as_of']}; model {result['model_id']}, policy {result['policy']}"
    )
    scale = result["scale"]
    pdo = scale["points_to_double_odds"]
    out.print(f"  scale: {scale['formula']}, {pdo:g} points double the odds")
    for band in scale["bands"]:
        out.print(
            f"  band {band['band']} {band['min_score']}-{band['max_score']}: default probability"
            f" {band['bad_rate_low']:.2%} to {band['bad_rate_high']:.2%}"
        )
    for dim, sub in result["sub_scores"].items():
        share = sub["share"]
        out.print(
            f"  {dim}: {sub['points']} points" + (f", {share:.0%}" if share is not None else "")
        )
    for r in result["reasons"]:
        until = f" ({r['counts_until']})" if r.get("counts_until") else ""
        out.print(f"  reason: {r['text']}{until}")
    for i in result["improvements"]:
        out.print(f"  to improve: {i['text']}")
    for standing in result["regimes"]:
        print_standing(standing)
    for f in result["features"]:
        out.print(
            f"  {f['feature']} = {f['value']}: {f['bin']['description']} -> {f['points']:g}"
            f" points ({len(f['events'])} events)"
        )
