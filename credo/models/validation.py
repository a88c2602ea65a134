# mypy: disable-error-code="import-untyped"
"""Validation of a points table on labelled data: discrimination, calibration, stability.

``validation_report`` computes AUC, KS, Gini, a decile calibration table, information value per
feature, the score distribution and, given a second sample, the population stability index
(PSI) of the scores and of each feature's bins. ``ValidationReport.write`` saves it as
``report.json`` and a self-contained ``report.html`` with inline SVG charts.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score, roc_curve

from credo.models._errors import FitError
from credo.models._svg import bar_chart, line_chart
from credo.models.table import ScorecardModel

__all__ = [
    "ValidationReport",
    "auc",
    "calibration_table",
    "gini",
    "ks",
    "psi",
    "score_distribution",
    "validation_report",
]

#: Share floor for empty PSI bins: keeps the index finite without hiding an empty bin.
_PSI_FLOOR = 1e-4


def _binary(y: ArrayLike) -> NDArray[np.float64]:
    target = np.asarray(y, dtype=np.float64)
    if not np.isin(target, (0.0, 1.0)).all():
        raise FitError("the outcome must be 0 (good) or 1 (bad)")
    if target.min() == target.max():
        raise FitError(
            "the outcome has one class only: AUC, KS and calibration need both good and bad"
        )
    return target


def auc(y_bad: ArrayLike, risk: ArrayLike) -> float:
    """Area under the ROC curve; ``risk`` is higher for riskier rows (e.g. P(bad))."""
    return float(roc_auc_score(_binary(y_bad), np.asarray(risk, dtype=np.float64)))


def gini(y_bad: ArrayLike, risk: ArrayLike) -> float:
    """Gini coefficient (accuracy ratio): ``2 * AUC - 1``."""
    return 2.0 * auc(y_bad, risk) - 1.0


def ks(y_bad: ArrayLike, risk: ArrayLike) -> float:
    """Kolmogorov-Smirnov statistic: the widest gap between the bad and good CDFs."""
    fpr, tpr, _ = roc_curve(_binary(y_bad), np.asarray(risk, dtype=np.float64))
    return float(np.max(tpr - fpr))


def calibration_table(
    y_bad: ArrayLike, p_bad: ArrayLike, *, bins: int = 10
) -> list[dict[str, float]]:
    """Rows sorted by predicted risk, cut into ``bins`` groups: predicted vs observed bad rate."""
    target = _binary(y_bad)
    predicted = np.asarray(p_bad, dtype=np.float64)
    order = np.argsort(predicted, kind="stable")
    out = []
    for group, part in enumerate(np.array_split(order, bins)):
        if len(part) == 0:
            continue
        out.append(
            {
                "decile": group + 1,
                "rows": len(part),
                "predicted_bad_rate": float(predicted[part].mean()),
                "observed_bad_rate": float(target[part].mean()),
            }
        )
    return out


def _psi_edges(expected: NDArray[np.float64], bins: int) -> NDArray[np.float64]:
    quantiles = np.quantile(expected, np.arange(1, bins) / bins)
    return np.unique(quantiles)


def _shares(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.float64]:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return np.maximum(counts / max(len(values), 1), _PSI_FLOOR)


def psi(expected_scores: ArrayLike, actual_scores: ArrayLike, *, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected``, on ``expected``'s deciles.

    Rule of thumb: below 0.1 stable, 0.1-0.25 worth a look, above 0.25 the population moved.
    """
    expected = np.asarray(expected_scores, dtype=np.float64)
    actual = np.asarray(actual_scores, dtype=np.float64)
    if len(expected) == 0 or len(actual) == 0:
        raise FitError("psi needs scores in both samples")
    if np.isnan(expected).any() or np.isnan(actual).any():
        raise FitError("psi: scores must not be missing (NaN)")
    edges = _psi_edges(expected, bins)
    e, a = _shares(expected, edges), _shares(actual, edges)
    return float(np.sum((a - e) * np.log(a / e)))


def _bin_psi(expected: NDArray[np.intp], actual: NDArray[np.intp], n_bins: int) -> float:
    e = np.maximum(np.bincount(expected, minlength=n_bins) / len(expected), _PSI_FLOOR)
    a = np.maximum(np.bincount(actual, minlength=n_bins) / len(actual), _PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def score_distribution(
    scores: ArrayLike, y_bad: ArrayLike | None = None, *, width: float = 50.0
) -> list[dict[str, float]]:
    """Counts (and bad counts) per score band of ``width`` points."""
    values = np.asarray(scores, dtype=np.float64)
    target = None if y_bad is None else np.asarray(y_bad, dtype=np.float64)
    band = np.floor(values / width) * width
    out = []
    for low in np.unique(band):
        inside = band == low
        row = {"from": float(low), "to": float(low + width), "rows": int(inside.sum())}
        if target is not None:
            row["bad_rows"] = int(target[inside].sum())
        out.append(row)
    return out


@dataclass
class ValidationReport:
    model_id: str
    rows: int
    bad_rows: int
    auc: float
    gini: float
    ks: float
    calibration: list[dict[str, float]]
    information_value: dict[str, float]
    score_distribution: list[dict[str, float]]
    psi: float | None = None
    feature_psi: dict[str, float] | None = None
    roc: dict[str, list[float]] = field(default_factory=dict, repr=False)
    compare_distribution: list[dict[str, float]] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("roc")
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def write(self, directory: str | Path) -> list[Path]:
        """``report.json`` and ``report.html`` in ``directory`` (created if needed)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "report.json", out / "report.html"]
        paths[0].write_text(self.to_json(), encoding="utf-8")
        paths[1].write_text(self.to_html(), encoding="utf-8")
        return paths

    def to_html(self) -> str:
        charts = [
            line_chart(
                "ROC curve",
                {f"AUC {self.auc:.3f}": (self.roc["fpr"], self.roc["tpr"])},
                x_label="false positive rate (goods flagged)",
                y_label="true positive rate (bads caught)",
                diagonal=True,
            ),
            line_chart(
                "Calibration by decile",
                {
                    "observed": (
                        [r["predicted_bad_rate"] for r in self.calibration],
                        [r["observed_bad_rate"] for r in self.calibration],
                    )
                },
                x_label="predicted bad rate",
                y_label="observed bad rate",
                diagonal=True,
            ),
            bar_chart(
                "Score distribution",
                [f"{r['from']:g}" for r in self.score_distribution],
                {
                    "good": [r["rows"] - r.get("bad_rows", 0) for r in self.score_distribution],
                    "bad": [r.get("bad_rows", 0) for r in self.score_distribution],
                },
                x_label="score band (from)",
                y_label="rows",
            ),
        ]
        if self.compare_distribution is not None:
            bands = sorted(
                {r["from"] for r in self.score_distribution}
                | {r["from"] for r in self.compare_distribution}
            )

            def share(rows: list[dict[str, float]]) -> list[float]:
                total = sum(r["rows"] for r in rows) or 1
                by = {r["from"]: r["rows"] / total for r in rows}
                return [by.get(b, 0.0) for b in bands]

            charts.append(
                bar_chart(
                    f"Stability: PSI {self.psi:.3f}",
                    [f"{b:g}" for b in bands],
                    {
                        "validation": share(self.score_distribution),
                        "compare": share(self.compare_distribution),
                    },
                    x_label="score band (from)",
                    y_label="share of rows",
                )
            )
        metrics = [
            ("rows", f"{self.rows}"),
            ("bad rows", f"{self.bad_rows}"),
            ("AUC", f"{self.auc:.4f}"),
            ("Gini", f"{self.gini:.4f}"),
            ("KS", f"{self.ks:.4f}"),
        ]
        if self.psi is not None:
            metrics.append(("PSI", f"{self.psi:.4f}"))
        metric_rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in metrics)
        iv_rows = "".join(
            f"<tr><td>{escape(name)}</td><td>{iv:.4f}</td>"
            + (f"<td>{self.feature_psi.get(name, math.nan):.4f}</td>" if self.feature_psi else "")
            + "</tr>"
            for name, iv in sorted(self.information_value.items(), key=lambda kv: -kv[1])
        )
        psi_head = "<th>PSI</th>" if self.feature_psi else ""
        return (
            "<!doctype html>\n<html><head><meta charset='utf-8'>"
            f"<title>Validation of {escape(self.model_id)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
            "svg{margin:8px}</style></head><body>\n"
            f"<h1>Validation of {escape(self.model_id)}</h1>\n"
            f"<table>{metric_rows}</table>\n<div>{''.join(charts)}</div>\n"
            f"<h2>Information value per feature</h2>\n"
            f"<table><tr><th>feature</th><th>IV</th>{psi_head}</tr>{iv_rows}</table>\n"
            "</body></html>\n"
        )


def validation_report(
    model: ScorecardModel,
    data: object,
    y_bad: ArrayLike,
    *,
    compare: object | None = None,
) -> ValidationReport:
    """Validate ``model`` on ``data`` with outcome ``y_bad`` (1 bad, 0 good).

    ``compare`` is a second sample (e.g. last month's applicants), unlabelled, for the PSI.
    """
    target = _binary(y_bad)
    scores = model.score(data)
    raw = model.raw_units(data) / model.unit
    p_bad = model.probability_from_points(raw)
    fpr, tpr, _ = roc_curve(target, p_bad)
    indexes = model.bin_indexes(data)
    information = {}
    for name, index in indexes.items():
        n_bins = len(model.rows_of(name))
        bads = np.bincount(index, weights=target, minlength=n_bins)
        goods = np.bincount(index, minlength=n_bins) - bads
        g = (goods + 0.5) / (goods.sum() + 0.5 * n_bins)
        b = (bads + 0.5) / (bads.sum() + 0.5 * n_bins)
        information[name] = round(float(np.sum((g - b) * np.log(g / b))), 6)
    step = max(1, len(fpr) // 200)
    report = ValidationReport(
        model_id=model.model_id,
        rows=len(target),
        bad_rows=int(target.sum()),
        auc=auc(target, p_bad),
        gini=gini(target, p_bad),
        ks=ks(target, p_bad),
        calibration=calibration_table(target, p_bad),
        information_value=information,
        score_distribution=score_distribution(scores, target),
        roc={
            "fpr": [float(v) for v in fpr[::step]] + [1.0],
            "tpr": [float(v) for v in tpr[::step]] + [1.0],
        },
    )
    if compare is not None:
        other_scores = model.score(compare)
        other_indexes = model.bin_indexes(compare)
        report.psi = psi(scores, other_scores)
        report.feature_psi = {
            name: round(_bin_psi(index, other_indexes[name], len(model.rows_of(name))), 6)
            for name, index in indexes.items()
        }
        report.compare_distribution = score_distribution(other_scores)
    return report
