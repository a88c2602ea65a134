"""``report.json`` and a self-contained ``report.html`` (inline SVG, no external assets)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from credo.fairness.audit import Audit
from credo.models._svg import bar_chart, line_chart

__all__ = ["to_html", "write_report"]

_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}svg{margin:8px}"
    ".flag{background:#fdd;font-weight:bold}"
)


def _num(value: float | None, places: int = 3) -> str:
    return "–" if value is None else f"{value:.{places}f}"


def _count(value: int | None) -> str:
    return "–" if value is None else str(value)


def _interval(intervals: dict[str, Any] | None, key: str) -> str:
    pair = (intervals or {}).get(key)
    return "" if pair is None else f" [{pair[0]:.3f}, {pair[1]:.3f}]"


def _cut_table(cut: dict[str, Any], threshold: float) -> str:
    head = (
        "<tr><th>group</th><th>n</th><th>approval rate</th><th>AIR</th><th>TPR</th>"
        "<th>TPR gap</th><th>FPR</th></tr>"
    )
    rows = []
    for g in cut["groups"]:
        flagged = g["air"] is not None and g["air"] < threshold
        rows.append(
            f"<tr><td>{escape(g['group'])}</td><td>{g['n']}</td>"
            f"<td>{_num(g['approval_rate'])}{_interval(g['intervals'], 'approval_rate')}</td>"
            f"<td{' class=flag' if flagged else ''}>{_num(g['air'])}"
            f"{_interval(g['intervals'], 'air')}</td>"
            f"<td>{_num(g['tpr'])}{_interval(g['intervals'], 'tpr')}</td>"
            f"<td>{_num(g['tpr_gap'])}</td><td>{_num(g['fpr'])}</td></tr>"
        )
    return (
        f"<h3>{escape(cut['cut'])} (score {cut['score']:g}); reference group"
        f" {escape(cut['reference_group'])}</h3><table>{head}{''.join(rows)}</table>"
    )


def _attribute(attribute: dict[str, Any], threshold: float) -> str:
    groups = [g["group"] for g in attribute["groups"]]
    approval = bar_chart(
        f"Approval rate by {attribute['name']}",
        groups,
        {cut["cut"]: [g["approval_rate"] for g in cut["groups"]] for cut in attribute["cuts"][:4]},
        x_label="group",
        y_label="approval rate",
    )
    observed = any(g["calibration"] for g in attribute["groups"])
    calibration = (
        line_chart(
            f"Calibration by score band, by {attribute['name']}",
            {
                g["group"]: (
                    [b["predicted_bad_rate"] for b in g["calibration"]],
                    [b["observed_bad_rate"] for b in g["calibration"]],
                )
                for g in attribute["groups"][:4]
            },
            x_label="predicted bad rate",
            y_label="observed bad rate",
            diagonal=True,
        )
        if observed
        else ""
    )
    profile = "".join(
        f"<tr><td>{escape(g['group'])}</td><td>{g['n']}</td><td>{_count(g['bad_rows'])}</td>"
        f"<td>{g['mean_score']:.1f}</td><td>{_num(g['smd'])}</td><td>{_num(g['auc'])}</td></tr>"
        for g in attribute["groups"]
    )
    return (
        f"<h2>{escape(attribute['name'])}</h2><div>{approval}{calibration}</div>"
        "<table><tr><th>group</th><th>n</th><th>bad</th><th>mean score</th>"
        f"<th>SMD vs rest</th><th>AUC</th></tr>{profile}</table>"
        + "".join(_cut_table(cut, threshold) for cut in attribute["cuts"])
    )


def to_html(report: dict[str, Any]) -> str:
    """One page: summary, flags under the four-fifths rule, then each attribute."""
    threshold = report["settings"]["air_threshold"]
    flags = "".join(
        f"<li>{escape(f['attribute'])} = {escape(f['group'])} at {escape(f['cut'])}:"
        f" AIR {f['air']:.3f}</li>"
        for f in report["flags"]
    )
    title = f"Fairness audit of {escape(report['model_id'])}"
    extra = str(report.get("proxies_html", ""))
    outcomes = (
        "outcomes not observed yet" if report["bad_rows"] is None else f"{report['bad_rows']} bad"
    )
    window = report.get("outcome_window")
    if window and not window["observed"]:
        outcomes += (
            f" (their {window['months']}-month window ends {escape(str(window['ends']))};"
            " <code>--as-of observed</code> audits the latest month that has them)"
        )
    if report.get("as_of"):
        title += f" on the bureau's scores of {escape(str(report['as_of']))}"
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{title}</h1><p>{report['rows']} rows, {outcomes}; AUC {_num(report['auc'])}.</p>"
        f"<h2>Adverse impact ratio under {threshold:g}</h2>"
        f"<ul>{flags or '<li>none</li>'}</ul>\n"
        + "".join(_attribute(a, threshold) for a in report["attributes"])
        + extra
        + "</body></html>\n"
    )


def write_report(audit: Audit, directory: str | Path, proxies_html: str = "") -> list[Path]:
    """``report.json`` and ``report.html`` in ``directory`` (created if needed)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = audit.to_dict()
    paths = [out / "report.json", out / "report.html"]
    paths[0].write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    paths[1].write_text(to_html({**data, "proxies_html": proxies_html}), encoding="utf-8")
    return paths
