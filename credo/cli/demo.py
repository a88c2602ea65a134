"""``credo demo``: every step on a generated population, a report, then the pages served."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from credo.cli._common import JsonOpt, emit_json, err, out, settings_for, steps, user_errors
from credo.cli.ingest import load_table, reasons_table

if TYPE_CHECKING:
    from credo.settings import Settings

__all__ = ["DEMO_OVERRIDE", "demo"]

#: Why the demo puts its card in use even where the fairness gate flags it: on the record, in
#: the audit log and the console, as any operator would have to (issue 18 item 4).
DEMO_OVERRIDE = (
    "credo demo: a synthetic population scored to show the fairness audit; not a real release"
)


@user_errors
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its files.")] = Path(
        "demo"
    ),
    people: Annotated[int, typer.Option(min=10, help="Persons in the demo population.")] = 10_000,
    months: Annotated[
        int,
        typer.Option(min=3, max=120, help="Months scored (after 48 months of history)."),
    ] = 12,
    fresh: Annotated[bool, typer.Option(help="Start from an empty database.")] = False,
    serve: Annotated[
        bool, typer.Option(help="End by serving the pages and the API on 127.0.0.1.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8650,
    compress: Annotated[
        bool,
        typer.Option(help="Generate the source files gzipped, as large populations need."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate a population, load it, resolve persons, train, score every month, report, and
    serve the person's page and the operator's console."""
    folder.mkdir(parents=True, exist_ok=True)
    population = folder / "population"
    settings = settings_for(folder / "credo.duckdb")
    if fresh:
        for p in (settings.db, settings.db.with_suffix(".duckdb.wal"), settings.resolved_key_file):
            p.unlink(missing_ok=True)
        shutil.rmtree(population, ignore_errors=True)
    run = _run(
        settings,
        population,
        people,
        months,
        logins=serve or as_json,
        progress=not as_json,
        compress=compress,
    )
    if as_json:
        emit_json(run.to_dict())
        if serve:
            _serve_demo(settings, port, run, quiet=True)
        return
    _print_report(run, settings, population)
    later = None if serve else f"credo serve --db {settings.db} --port {port}"
    _print_partner(run.partner, f"http://127.0.0.1:{port}", later)
    if serve:
        _serve_demo(settings, port, run, quiet=False)


@dataclass(frozen=True)
class _DemoRun:
    """What each step of the demo produced, for the report."""

    population: Any
    loads: list[Any]
    resolved: Any
    scored: Any
    status: dict[str, Any]
    logins: list[Any]
    partner: Any
    truth: Any
    fairness: Any
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "population": self.population.to_dict(),
            "loads": [r.to_dict() for r in self.loads],
            "resolve": self.resolved.to_dict(),
            "scoring": self.scored.to_dict(),
            "status": self.status,
            "logins": [login.to_dict() for login in self.logins],
            "partner": self.partner.to_dict(),
            "identity_against_truth": self.truth.to_dict(),
            "fairness": self.fairness,
            "seconds": round(self.seconds, 1),
        }


def _run(
    settings: Settings,
    population: Path,
    people: int,
    months: int,
    *,
    logins: bool,
    progress: bool,
    compress: bool = False,
) -> _DemoRun:
    from credo.dashboard.demo import demo_logins, demo_partner
    from credo.fairness.protected import load_protected
    from credo.identity import resolve
    from credo.ingest.batch import ingest_population
    from credo.policy.bases import withheld_for
    from credo.scoring import run_demo_scoring
    from credo.scoring.demo import HISTORY_MONTHS
    from credo.sim import Arrivals
    from credo.sim import generate as run_generate
    from credo.sim.protected import DEMO_LINKS
    from credo.sim.truth import check_resolution
    from credo.store.db import Store
    from credo.store.status import status_data

    started = time.perf_counter()
    with steps(progress) as step:
        step(f"generating {people:,} persons over {HISTORY_MONTHS} + {months} months")
        summary = run_generate(
            people,
            HISTORY_MONTHS + months,
            7,
            population,
            links=DEMO_LINKS,
            arrivals=Arrivals(),
            compress=compress,
        )
        with Store.open(settings, create=True) as store:
            reports = ingest_population(
                store,
                population,
                max_reject_rate=0.01,
                on_file=lambda s, i, n: step(f"loading [{i + 1}/{n}] {s}"),
                withheld=withheld_for(settings),
            )
            step("resolving source records to persons")
            resolved = resolve(store)
            truth = check_resolution(store.con, population)
            load_protected(store, population / "protected" / "protected.csv")
            step(f"training the scorecard and scoring {months} month-ends")
            scored = run_demo_scoring(store, months=months, override_why=DEMO_OVERRIDE)
            step("auditing the last month's scores at every product cut")
            fairness = _fairness(store, population, scored.months[-1], scored.observed_month)
            data = status_data(store)
            shown = demo_logins(store) if logins else []
            partner = demo_partner(store)
    seconds = time.perf_counter() - started
    return _DemoRun(
        summary, reports, resolved, scored, data, shown, partner, truth, fairness, seconds
    )


def _fairness(store: Any, population: Path, month: Any, observed: Any) -> dict[str, Any]:
    """Audit the last month's scores at every product cut against the protected attributes
    loaded apart, and write the report beside the population; and the month whose outcomes
    are observed (TPR, AUC within group, calibration) into ``fairness/observed``."""
    from credo.fairness.bureau import audit_month
    from credo.fairness.report import write_report
    from credo.policy.products import load_products

    products = load_products("products")
    report = audit_month(store, month, products)
    paths = write_report(report, population.parent / "fairness")
    worst = min(report.flags, key=lambda f: float(f["air"]), default=None)
    found = {"as_of": report.as_of, "flags": len(report.flags), "lowest": worst,
             "report": str(paths[1]), "observed": None}  # fmt: skip
    if observed is not None:
        early = audit_month(store, observed, products)
        html = write_report(early, population.parent / "fairness" / "observed")[1]
        found["observed"] = {"as_of": early.as_of, "auc": early.auc, "bad_rows": early.bad_rows,
                             "report": str(html)}  # fmt: skip
    return found


def _print_report(run: _DemoRun, settings: Settings, population: Path) -> None:
    summary, data = run.population, run.status
    out.print(
        f"[bold]Credo demo[/]: {summary.persons:,} persons, {summary.total_rows:,} source rows "
        f"in {len(summary.files)} sources, written to {population}."
    )
    out.print(load_table(run.loads))
    reasons = reasons_table(run.loads)
    if reasons is not None:
        out.print(reasons)
    out.print(
        f"Identity: {run.resolved.records:,} source records resolved to "
        f"{run.resolved.persons:,} persons "
        f"({run.resolved.reviews_pending} pairs wait in the review queue)."
    )
    t = run.truth
    out.print(
        f"Against the generator's truth: {t.generated:,} generated persons became "
        f"{t.resolved:,}; {t.split:,} generated persons were split across two or more "
        f"persons and {t.merged:,} persons merge two or more generated ones "
        f"({t.resolved - t.generated:+,} persons in all).",
        highlight=False,
    )
    _print_scores(run.scored)
    fair, worst = run.fairness, run.fairness["lowest"]
    found = (
        "no adverse impact ratio under 0.8"
        if worst is None
        else f"{fair['flags']} adverse impact ratio(s) under 0.8, lowest {worst['air']:.3f}"
        f" ({worst['attribute']} = {worst['group']} at {worst['cut']})"
    )
    out.print(f"Fairness on {fair['as_of']}: {found}; {fair['report']}", highlight=False)
    if (seen := fair["observed"]) is not None:
        auc = "-" if seen["auc"] is None else f"{seen['auc']:.3f}"
        out.print(
            f"Fairness with outcomes on {seen['as_of']} ({seen['bad_rows']} bad, AUC {auc}):"
            f" TPR, AUC and calibration by group; {seen['report']}",
            highlight=False,
        )
    out.print(
        f"Database {settings.db}: {data['events']:,} events, {data['quarantined_rows']:,} rows in "
        f"quarantine, {data['audit_entries']:,} audit entries ({run.seconds:.0f} s). "
        f"Try: credo explain PERSON --db {settings.db}"
    )


def _serve_demo(settings: Settings, port: int, run: _DemoRun, *, quiet: bool) -> None:
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
    for login in run.logins:
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


def fit_line(scored: Any) -> str:
    """The training sample and the fit in time and out of time, in one line."""
    fit = scored.fit
    parts = [
        f"{scored.training_rows:,} rows from {len(scored.vintages)} monthly vintages,"
        f" {scored.training_bads:,} bad"
    ]
    for key, label in (("in_time", "in time"), ("out_of_time", "out of time")):
        if key in fit and "auc" in fit[key]:
            f = fit[key]
            sample = f"{f['bads']:,} bad of {f['rows']:,} rows"
            if "persons" in f:  # stacked dates repeat persons
                sample += f", {f['bad_persons']:,} bad of {f['persons']:,} persons"
            parts.append(
                f"{label} ({sample}): AUC {f['auc']:.3f}, Gini {f['gini']:.3f}, KS {f['ks']:.3f},"
                f" bad rate {f['bad_rate']:.2%} vs predicted {f['mean_predicted_pd']:.2%}"
            )
    if "outcome_overlap_months" in fit:  # an honest holdout (docs/decisions/0539)
        parts.append(
            f"training outcomes end {fit['training_outcomes_end']},"
            f" {fit['outcome_overlap_months']} months of overlap with the holdout's"
        )
    return "; ".join(parts)


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
    out.print(f"Training: {fit_line(scored)}")
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


def _print_partner(partner: Any, base: str, later: str | None) -> None:
    """The demo's partner key and a decision to ask for, ready to paste (docs/partners.md)."""
    if partner.registered:
        out.print(f"Partners registered: {', '.join(partner.registered)}.", highlight=False)
    out.print(
        f"Partner {partner.partner_id} ({partner.name}) API key (new each run, shown once): "
        f"{partner.key}",
        highlight=False,
        soft_wrap=True,
    )
    if partner.person is None:
        return
    body = json.dumps(
        {"person": partner.person, "product": partner.product, "consent": partner.consent}
    )
    where = f" (after: {later})" if later else ""
    out.print(
        f"Ask for a decision{where}:\n  curl -s {base}/v1/decisions -H 'Authorization: Bearer "
        f"{partner.key}' -H 'Content-Type: application/json' -d '{body}'",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
