"""``credo fairness``: whom a scorecard approves, per protected attribute, group and cut."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credo.cli._common import DbOpt, out, user_errors
from credo.errors import InputError

if TYPE_CHECKING:
    from credo.fairness.audit import Audit

__all__ = ["fairness"]


@user_errors
def fairness(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Directory for report.json/.html.")
    ] = None,
    model_path: Annotated[
        Path | None, typer.Option("--model", help="Points table (JSON), with --table.")
    ] = None,
    table: Annotated[Path | None, typer.Option(help="Labelled data, CSV or Parquet.")] = None,
    target: Annotated[str | None, typer.Option(help="Outcome column.")] = None,
    protected_path: Annotated[
        Path | None,
        typer.Option("--protected", help="With --table: one column per protected attribute."),
    ] = None,
    bad: Annotated[str | None, typer.Option(help="Target value that means bad.")] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Join column in both files (without it, row by row); with --load-protected,"
            " the identifier column (default national_id).",
        ),
    ] = None,
    approve_share: Annotated[
        list[str] | None,
        typer.Option(
            "--approve-share",
            help="Approve the top share S: the highest cut at which at least S of rows score"
            " at or above it (repeat it).",
        ),
    ] = None,
    cut: Annotated[
        list[float] | None,
        typer.Option("--cut", help="Approve rows scoring at least SCORE (repeat it)."),
    ] = None,
    small_group: Annotated[
        int, typer.Option(help="Groups under this many rows get bootstrap intervals.")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    proxies: Annotated[
        bool, typer.Option("--proxies", help="Also measure proxies (refits the model).")
    ] = False,
    max_auc_loss: Annotated[
        float, typer.Option(help="Alternatives may lose at most this much AUC.")
    ] = 0.01,
    products: Annotated[
        Path | None,
        typer.Option(
            help="Products policy: audit at every rule's min_score (with --as-of: default"
            " the shipped products.yaml)."
        ),
    ] = None,
    gate: Annotated[
        bool,
        typer.Option("--gate", help="Refuse (exit 9) if any adverse impact ratio is under 0.8."),
    ] = False,
    override_why: Annotated[
        str | None,
        typer.Option(help="With --gate: clear the card anyway, recorded in --db's audit log."),
    ] = None,
    db: DbOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Audit the bureau's monthly scores of this month-end (YYYY-MM-DD) against"
            " the protected attributes it holds, at every product cut; 'observed': the latest"
            " scored month whose outcome window is observed (TPR, AUC, calibration need it).",
        ),
    ] = None,
    load_protected: Annotated[
        Path | None,
        typer.Option(
            "--load-protected",
            help="Load a CSV of protected attributes (one column each, keyed by --id) into the"
            " bureau's own encrypted table.",
        ),
    ] = None,
) -> None:
    """Approval rates, adverse impact ratios, TPR/FPR, AUC and calibration per group and cut:
    of a points table on any table (--model/--table), or of the bureau's monthly scores
    (--as-of); --load-protected loads the bureau's protected attributes."""
    if load_protected is not None:
        _load(load_protected, id_column or "national_id", db)
        return
    if out_dir is None:
        raise InputError("no --out directory for the report", hint="pass --out DIR")
    if as_of is not None:
        report = _audit_month(as_of, products, db, small_group, seed)
        extra = ""
    else:
        report, extra = _audit_table(
            model_path, table, target, protected_path, bad, id_column,
            _cuts(approve_share, cut, products), small_group, seed, proxies, max_auc_loss,
        )  # fmt: skip
    _finish(report, extra, out_dir, gate, override_why, db)


def _cuts(shares: list[str] | None, scores: list[float] | None, products: Path | None) -> Any:
    from credo.fairness.inputs import CutSpec

    cuts = [CutSpec.parse_share(s) for s in shares or []]
    cuts += [CutSpec("score", score=c) for c in scores or []]
    if products is not None:
        from credo.fairness.gate import product_cuts
        from credo.policy.products import load_products

        cuts += product_cuts(load_products(products))
    if not cuts:
        raise InputError("no cut to audit", hint="pass --approve-share S or --cut SCORE")
    return cuts


def _audit_table(
    model_path: Path | None,
    table: Path | None,
    target: str | None,
    protected_path: Path | None,
    bad: str | None,
    id_column: str | None,
    cuts: Any,
    small_group: int,
    seed: int,
    proxies: bool,
    max_auc_loss: float,
) -> tuple[Audit, str]:
    from credo.fairness.audit import AuditSettings, audit
    from credo.fairness.inputs import align_protected
    from credo.models.files import require_columns
    from credo.models.table import ScorecardModel
    from credo.models.target import code_target, read_target

    needed = {"--model": model_path, "--table": table, "--target": target}
    needed["--protected"] = protected_path
    missing = [name for name, value in needed.items() if value is None]
    if missing:
        raise InputError(
            f"missing {', '.join(missing)}",
            hint="audit a table with --model, --table, --target and --protected,"
            " or the bureau's scores with --as-of DATE",
        )
    assert model_path and table and target and protected_path  # checked just above
    model = ScorecardModel.load(model_path)
    data = read_table(table)
    require_columns(data, [target, *model.features], table, "required")
    y = code_target(read_target(table, target), target, bad).y
    groups = align_protected(data, table, read_table(protected_path), protected_path, id_column)
    report = audit(model, data, y, groups, cuts, AuditSettings(small_group=small_group, seed=seed))
    extra = ""
    if proxies:
        from credo.fairness.proxies import proxy_report

        found = proxy_report(model, data, y, groups, cuts, max_auc_loss=max_auc_loss)
        report.proxies = found.to_dict()
        extra = found.to_html()
    return report, extra


def _audit_month(
    as_of: str, products: Path | None, db: Path | None, small_group: int, seed: int
) -> Audit:
    from credo.cli._common import open_store
    from credo.fairness.audit import AuditSettings
    from credo.fairness.bureau import audit_month, observed_month
    from credo.policy.products import load_products

    day = None if as_of == "observed" else _date(as_of)
    policy = load_products(products if products is not None else "products")
    with open_store(db) as store:
        day = day or observed_month(store)
        return audit_month(store, day, policy, AuditSettings(small_group=small_group, seed=seed))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of {text!r} is not a date", hint="write it YYYY-MM-DD") from None


def _load(path: Path, id_column: str, db: Path | None) -> None:
    from credo.cli._common import open_store
    from credo.fairness.protected import load_protected

    with open_store(db) as store:
        done = load_protected(store, path, id_column=id_column)
    what = "loaded" if done.new else "already loaded (nothing added)"
    out.print(
        f"protected attributes {what}: {done.rows} persons, {', '.join(done.attributes)}"
        f" (load {done.load_id})",
        highlight=False,
    )


def _finish(
    report: Audit, extra: str, out_dir: Path, gate: bool, why: str | None, db: Path | None
) -> None:
    from credo.fairness.report import write_report

    paths = write_report(report, out_dir, extra)
    worst = min((f["air"] for f in report.flags), default=None)
    summary = "no AIR under 0.8" if worst is None else f"{len(report.flags)} AIR under 0.8"
    worst_text = "" if worst is None else f" (lowest {worst:.3f})"
    out.print(
        f"audited {report.rows} rows, {len(report.attributes)} attribute(s),"
        f" {len(report.cuts)} cut(s): {summary}{worst_text}"
        f" -> {', '.join(str(p) for p in paths)}",
        highlight=False,
    )
    window = report.outcome_window
    if window is not None and not window["observed"]:
        out.print(
            f"no TPR, AUC or calibration: the outcomes of {report.as_of} are observed only"
            f" after {window['ends']} ({window['months']} months); '--as-of observed' audits"
            " the latest month that has them",
            highlight=False,
        )
    if gate:
        _gate(report, why, db)


def read_table(path: Path) -> dict[str, Any]:
    """Every column of a CSV or Parquet file, typed by the scorecard's own reader (decision
    0104), so the audit sees the values the card was trained and scores on."""
    from credo.models._errors import DataError
    from credo.models.reader import infer_schema, raw_types, read_typed

    columns = raw_types(path)
    data = read_typed(path, columns, infer_schema(path, columns, list(columns)))
    if not data or len(next(iter(data.values()))) == 0:
        raise DataError(f"{str(path)!r} has no rows")
    return data


def _gate(report: Audit, why: str | None, db: Path | None) -> None:
    from credo.cli._common import open_store
    from credo.fairness.gate import gate

    store = open_store(db) if why is not None and report.flags else None
    try:
        seq = gate(report, store, why)
    finally:
        if store is not None:
            store.close()
    if seq is not None:
        out.print(f"gate overridden on the record: audit log entry {seq}", highlight=False)
