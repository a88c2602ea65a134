"""The lab's page: a line per policy over the months, overall and by group (inline SVG)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from credo.models._svg import line_chart

__all__ = ["body_html", "to_html"]

Pick = Callable[[dict[str, Any]], float]


def _chart(report: dict[str, Any], title: str, y_label: str, pick: Pick, where: str) -> str:
    series: dict[str, tuple[Sequence[float], Sequence[float]]] = {}
    for run in report["policies"]:
        rows = run["months"]
        figures = [r["overall"] if where == "overall" else r["by_group"][where] for r in rows]
        series[str(run["policy"]["name"])] = (
            [float(r["month"]) for r in rows],
            [pick(f) for f in figures],
        )
    return line_chart(f"{title} ({where})", series, x_label="month", y_label=y_label)


def _table(report: dict[str, Any]) -> str:
    bands = report["bands"]
    head = "<tr><th>policy</th><th>group</th><th>mean score</th><th>Gini</th>" + "".join(
        f"<th>{escape(b)}</th>" for b in bands
    )
    rows = []
    for run in report["policies"]:
        last = run["months"][-1]
        for name, f in [("all", last["overall"]), *last["by_group"].items()]:
            shares = "".join(f"<td>{s:.3f}</td>" for s in f["band_shares"])
            rows.append(
                f"<tr><td>{escape(run['policy']['name'])}</td><td>{escape(name)}</td>"
                f"<td>{f['mean_score']:.1f}</td><td>{f['gini']:.4f}</td>{shares}</tr>"
            )
    return f"<table>{head}</tr>{''.join(rows)}</table>"


def body_html(report: dict[str, Any]) -> str:
    """The summary table and the charts, to place in a page (the report's, the console's)."""
    wheres = ["overall", *report["policies"][0]["months"][0]["by_group"]]
    charts = []
    for where in wheres:
        charts += [
            _chart(report, "Lowest band share", "share", lambda f: f["band_shares"][0], where),
            _chart(report, "Score Gini", "Gini", lambda f: f["gini"], where),
            _chart(
                report, "Segregation by score", "correlation", lambda f: f["segregation"], where
            ),
            _chart(
                report,
                "Wrongful restriction",
                "person-days",
                lambda f: f["wrongful_restriction_days"],
                where,
            ),
        ]
    return (
        f"<h2>At the last month</h2>{_table(report)}"
        f"<h2>Month by month</h2><div>{''.join(charts)}</div>"
    )


def to_html(report: dict[str, Any]) -> str:
    """Summary at the last month, then the monthly lines per measure."""
    title = (
        f"Simulation: {report['people']} people, {report['months']} months, seed {report['seed']}"
    )
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
        "svg{margin:8px}</style></head><body>\n"
        f"<h1>{escape(title)}</h1>{body_html(report)}</body></html>\n"
    )
