"""``credo fairness``: whom a scorecard approves, per protected attribute, group and cut."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from credo.cli._common import out, user_errors
from credo.errors import InputError

if TYPE_CHECKING:
    from credo.fairness.audit import Audit

__all__ = ["fairness"]


@user_errors
def fairness(
    model_path: Annotated[Path, typer.Option("--model", help="Points table (JSON).")],
    table: Annotated[Path, typer.Option(help="Labelled data, CSV or Parquet.")],
    target: Annotated[str, typer.Option(help="Outcome column.")],
    protected_path: Annotated[
        Path, typer.Option("--protected", help="One column per protected attribute (CSV).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for report.json/.html.")],
    bad: Annotated[str | None, typer.Option(help="Target value that means bad.")] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id", help="Join column in both files; without it, row by row."),
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
        typer.Option(help="Products policy: audit at every rule's min_score too."),
    ] = None,
    gate: Annotated[
        bool,
        typer.Option("--gate", help="Refuse (exit 9) if any adverse impact ratio is under 0.8."),
    ] = False,
    override_why: Annotated[
        str | None,
        typer.Option(help="With --gate: clear the card anyway, recorded in --db's audit log."),
    ] = None,
    db: Annotated[Path | None, typer.Option(help="Database whose audit log records it.")] = None,
) -> None:
    """Approval rates, adverse impact ratios, TPR/FPR, AUC and calibration per group and cut."""
    from credo.fairness.audit import AuditSettings, audit
    from credo.fairness.inputs import CutSpec, align_protected
    from credo.fairness.report import write_report
    from credo.models.files import require_columns
    from credo.models.table import ScorecardModel
    from credo.models.target import code_target, read_target

    cuts = [CutSpec.parse_share(s) for s in approve_share or []]
    cuts += [CutSpec("score", score=c) for c in cut or []]
    if products is not None:
        from credo.fairness.gate import product_cuts
        from credo.policy.products import load_products

        cuts += product_cuts(load_products(products))
    if not cuts:
        raise InputError("no cut to audit", hint="pass --approve-share S or --cut SCORE")
    model = ScorecardModel.load(model_path)
    data = read_table(table)
    require_columns(data, [target, *model.features], table, "required")
    y = code_target(read_target(table, target), target, bad).y
    groups = align_protected(data, table, read_table(protected_path), protected_path, id_column)
    settings = AuditSettings(small_group=small_group, seed=seed)
    report = audit(model, data, y, groups, cuts, settings)
    extra = ""
    if proxies:
        from credo.fairness.proxies import proxy_report

        found = proxy_report(model, data, y, groups, cuts, max_auc_loss=max_auc_loss)
        report.proxies = found.to_dict()
        extra = found.to_html()
    paths = write_report(report, out_dir, extra)
    worst = min((f["air"] for f in report.flags), default=None)
    summary = "no AIR under 0.8" if worst is None else f"{len(report.flags)} AIR under 0.8"
    worst_text = "" if worst is None else f" (lowest {worst:.3f})"
    out.print(
        f"audited {report.rows} rows, {len(groups)} attribute(s), {len(cuts)} cut(s):"
        f" {summary}{worst_text} -> {', '.join(str(p) for p in paths)}",
        highlight=False,
    )
    if gate:
        _gate(report, override_why, db)


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
