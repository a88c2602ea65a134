"""The delayed-impact scenario: Liu, Dean, Rolf, Simchowitz and Hardt, "Delayed Impact of Fair
Machine Learning" (ICML 2018), on the FICO TransRisk data (issue 18 item 9).

A lender picks, per group, which scores get a loan; a repaid loan raises the borrower's score by
75 points, a default lowers it by 150 (within 300-850). The paper's outcome curve is a group's
expected score change as a function of the share of it selected, best scores first; it compares
three policies: maximum profit (each group cut at its break-even repayment rate), demographic
parity (the same selection rate in both groups, the most profitable one) and equal opportunity
(the same true-positive rate, the most profitable one), at two lender utilities (a default costs
4, or 10, times what a repaid loan earns).

Every step is the paper's own code (https://github.com/lydiatliu/delayedimpact, BSD 3-Clause)
and its notebook, ported to arrays with the same arithmetic, searches and tolerances, so the
figures equal the reference's within 1e-6 (``tests/lab/test_delayed_impact.py`` runs the
reference). One difference by design: the reference's per-group "harm threshold" reads the same
group twice (a late-binding lambda); here each group uses its own repayment curve and
distribution. The data, from the Federal Reserve's 2007 report, ship in ``data/fico``
(SOURCE.md).
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.models._svg import line_chart

__all__ = [
    "FORMAT",
    "GROUPS",
    "IMPACTS",
    "UTILITIES",
    "FicoData",
    "delayed_impact",
    "load_fico",
    "write_report",
]

FORMAT = "credo.lab.delayed_impact"
#: The paper's two groups: A (Black) and B (White).
GROUPS = ("Black", "White")
#: Score change on default and on repayment (the paper's Figure 2 setting), and the score range.
IMPACTS = (-150.0, 75.0)
BOUNDS = (300.0, 850.0)
#: Lender utilities (default, repaid): a default costs 4 or 10 times what a repayment earns.
UTILITIES = ((-4.0, 1.0), (-10.0, 1.0))
#: The FICO score at each percentile of the TransRisk score (the reference's
#: ``convert_percentiles``): (score, percent of people in the band above it).
_PERCENTILE_BANDS = (
    (300, 2.1), (350, 4.2), (400, 5.4), (450, 6.5), (500, 7.9), (550, 9.6),
    (600, 12.0), (650, 13.8), (700, 17.0), (750, 15.8), (800, 5.7), (850, 0),
)  # fmt: skip

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class FicoData:
    """Scores (FICO scale), and per group: cumulative share, repayment rate, sample size."""

    scores: Floats
    cdf: dict[str, Floats]
    repay: dict[str, Floats]
    totals: dict[str, int]


def _convert_percentile(x: float) -> float:
    partial = 0.0
    for (v, s), (v2, _) in itertools.pairwise(_PERCENTILE_BANDS):
        if partial + s >= x:
            return v + (v2 - v) * (x - partial) / s
        partial += s
    raise ValueError(f"percentile {x} is above 100")


def _read(path: Path) -> tuple[list[float], dict[str, list[float]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    names = [n.replace("Non- Hispanic white", "White") for n in rows[0][1:]]
    index = [float(r[0]) for r in rows[1:]]
    return index, {n: [float(r[k + 1]) for r in rows[1:]] for k, n in enumerate(names)}


def load_fico(folder: Path | None = None) -> FicoData:
    """The shipped tables (or the same three files in ``folder``)."""
    where = (
        Path(str(resources.files("credo") / "lab" / "data" / "fico")) if folder is None else folder
    )
    percentiles, cdf = _read(where / "transrisk_cdf_by_race_ssa.csv")
    _, bad = _read(where / "transrisk_performance_by_race_ssa.csv")
    with (where / "totals.csv").open(encoding="utf-8", newline="") as f:
        total_rows = list(csv.reader(f))
    names = [n.replace("Non- Hispanic white", "White") for n in total_rows[0][1:]]
    ssa = next(r for r in total_rows[1:] if r[0] == "SSA")
    return FicoData(
        scores=np.array([_convert_percentile(p) for p in percentiles], dtype=np.float64),
        cdf={g: np.asarray(v, dtype=np.float64) / 100.0 for g, v in cdf.items()},
        repay={g: (100 - np.asarray(v, dtype=np.float64)) / 100.0 for g, v in bad.items()},
        totals={n: int(v) for n, v in zip(names, ssa[1:], strict=True)},
    )


# -- the reference's searches, iterative, with its steps and tolerances --------------------------
def _binary_search(f: Callable[[float], float], target: float) -> float:
    left, right, tol = 1e-5, 1 - 1e-5, 1e-8
    while True:
        mid = (left + right) * 0.5
        if abs(mid - left) < tol:
            return mid
        if f(mid) < target:
            left = mid
        else:
            right = mid


def _ternary_maximize(f: Callable[[float], float]) -> float:
    left, right, tol = 1e-5, 1 - 1e-5, 1e-5
    while True:
        m_1 = (2.0 / 3) * left + (1.0 / 3) * right
        m_2 = (1.0 / 3) * left + (2.0 / 3) * right
        if abs(m_1 - m_2) < tol:
            return m_2 if f(m_2) > f(m_1) else m_1
        if f(m_1) < f(m_2):
            left = m_1
        else:
            right = m_2


def _rate_to_loans(rate: float, pdf: Floats) -> Floats:
    """Lend to the best scores first until ``rate`` of the group is selected (the last score
    partly, at random)."""
    out = np.zeros(len(pdf))
    total = 0.0
    for i in range(len(pdf) - 1, -1, -1):
        if pdf[i] + total > rate:
            out[i] = (rate - total) / pdf[i]
            return out
        out[i] = 1.0
        total = total + pdf[i]
    return out


def _loans_to_tp(loans: Floats, pdf: Floats, perf: Floats) -> float:
    return float(np.sum(pdf * perf * loans) / np.sum(pdf * perf))


def _tp_to_loans(tp: float, pdf: Floats, perf: Floats) -> Floats:
    rate = _binary_search(lambda t: _loans_to_tp(_rate_to_loans(t, pdf), pdf, perf), tp)
    return _rate_to_loans(rate, pdf)


@dataclass(frozen=True)
class _Lending:
    perf: Floats  # (groups, scores): repayment probability
    pdf: Floats  # (groups, scores): share of the group at the score
    props: Floats  # (groups,): share of the population

    def profit(self, break_even: float, loans: Floats) -> float:
        in_groups = np.sum((self.perf - break_even) * loans * self.pdf, axis=1)
        return float(np.dot(self.props, in_groups))

    def from_rate(self, rate: float) -> Floats:
        return np.vstack([_rate_to_loans(rate, p) for p in self.pdf])

    def from_tp(self, tp: float) -> Floats:
        return np.vstack([_tp_to_loans(tp, p, q) for p, q in zip(self.pdf, self.perf, strict=True)])

    def max_profit(self, break_even: float) -> Floats:
        return np.asarray(np.trunc(self.perf + 1 - break_even), dtype=np.float64)

    def demographic_parity(self, break_even: float) -> Floats:
        rate = _ternary_maximize(lambda r: self.profit(break_even, self.from_rate(r)))
        return self.from_rate(rate)

    def equal_opportunity(self, break_even: float) -> Floats:
        tp = _ternary_maximize(lambda t: self.profit(break_even, self.from_tp(t)))
        return self.from_tp(tp)


def expected_move(scores: Floats, repay: Floats) -> Floats:
    """Each score's expected change if lent to, kept within the score range."""
    move = (1 - repay) * IMPACTS[0] + repay * IMPACTS[1]
    return np.asarray(np.clip(scores + move, BOUNDS[0], BOUNDS[1]) - scores, dtype=np.float64)


def _from_top(values: Floats) -> Floats:
    """Cumulative sums from the highest score down (the reference's running sums)."""
    return np.asarray(np.cumsum(values[::-1]), dtype=np.float64)


def _threshold(tau: Floats, scores: Floats) -> float:
    """The lowest score lent to, moved up by the share of it not lent to (for plots)."""
    x = int(np.amin(np.where(tau > 0)))
    return float(scores[x] + (1 - tau[x]) * np.abs(scores[x + 1] - scores[x]))


def harm_threshold(pi: Floats, scores: Floats, move: Floats) -> float:
    """The (randomised) threshold under which lending lowers the group's mean score."""
    running = 0.0
    for i in range(len(scores)):
        x = len(scores) - 1 - i
        if running + pi[x] * move[x] < 0.0:
            randomized = (0.0 - running) / (move[x] * pi[x])
            if i == 0:
                return float(scores[x])
            return float(scores[x] + randomized * abs(scores[x] - scores[x + 1]))
        running += pi[x] * move[x]
    return float(scores[0])


def _dempar_curves(util: Floats, cdfs: Floats, props: Floats) -> Floats:
    """The lender's utility when group A selects each share and B the same share (and back)."""
    above = np.vstack([(1 - c)[::-1] for c in cdfs])
    n = util.shape[1]
    total = np.zeros((2, n))
    for i_a in range(n):
        i_b = int(np.argmin(np.abs(above[1] - above[0, i_a])))
        total[0, i_a] = props[0] * util[0, i_a] + props[1] * util[1, i_b]
    for i_b in range(n):
        i_a = int(np.argmin(np.abs(above[0] - above[1, i_b])))
        total[1, i_b] = props[0] * util[0, i_a] + props[1] * util[1, i_b]
    return total


def _policy(name: str, tau: Floats, pis: Floats, moves: Floats, scores: Floats) -> dict[str, Any]:
    return {
        "policy": name,
        "selection_rate": [float(np.sum(p * t)) for p, t in zip(pis, tau, strict=True)],
        "expected_score_change": [
            float(np.sum(p * t * m)) for p, t, m in zip(pis, tau, moves, strict=True)
        ],
        "threshold": [_threshold(t, scores) for t in tau],
        "loans": [t.tolist() for t in tau],
    }


def _setting(
    utilities: tuple[float, float], lending: _Lending, moves: Floats, scores: Floats
) -> dict[str, Any]:
    u_default, u_repaid = utilities
    break_even = u_default / (u_default - u_repaid)
    pis = lending.pdf
    gains = [
        ((1 - r) * u_default + r * u_repaid) * p for r, p in zip(lending.perf, pis, strict=True)
    ]
    util = np.vstack([_from_top(g) for g in gains])
    best = np.amax(util, axis=1)
    rescaled = lending.pdf * lending.perf
    rescaled = rescaled / rescaled.sum(axis=1, keepdims=True)
    taus = {
        "max_profit": lending.max_profit(break_even),
        "demographic_parity": lending.demographic_parity(break_even),
        "equal_opportunity": lending.equal_opportunity(break_even),
    }
    cdfs = np.vstack([np.cumsum(p) for p in pis])
    return {
        "utility_default": u_default,
        "utility_repaid": u_repaid,
        "break_even_repay_probability": break_even,
        "policies": [_policy(k, t, pis, moves, scores) for k, t in taus.items()],
        "utility_curves": {
            "max_profit": np.vstack([util[0] + best[1], util[1] + best[0]]).tolist(),
            "demographic_parity": _dempar_curves(util, cdfs, lending.props).tolist(),
            "equal_opportunity": _dempar_curves(
                util, np.vstack([np.cumsum(r) for r in rescaled]), lending.props
            ).tolist(),
        },
    }


def delayed_impact(
    data: FicoData | None = None, utilities: Sequence[tuple[float, float]] = UTILITIES
) -> dict[str, Any]:
    """The scenario's figures (``report.json``): outcome curves, the three policies' selection
    rates, thresholds and expected score changes, the lender's utility curves."""
    fico = data or load_fico()
    scores = fico.scores
    cdfs = np.vstack([fico.cdf[g] for g in GROUPS])
    pis = np.vstack([np.concatenate([c[:1], np.diff(c)]) for c in cdfs])
    perf = np.vstack([fico.repay[g] for g in GROUPS])
    counts = np.array([fico.totals[g] for g in GROUPS], dtype=np.float64)
    props = counts / counts.sum()
    moves = np.vstack([expected_move(scores, r) for r in perf])
    lending = _Lending(perf, pis, props)
    return {
        "format": FORMAT,
        "format_version": 1,
        "paper": "Liu, Dean, Rolf, Simchowitz, Hardt: Delayed Impact of Fair Machine Learning,"
        " ICML 2018",
        "data": "FICO TransRisk by race, Federal Reserve report to Congress, 2007",
        "groups": list(GROUPS),
        "group_shares": props.tolist(),
        "impacts": {"default": IMPACTS[0], "repaid": IMPACTS[1], "bounds": list(BOUNDS)},
        "scores": scores.tolist(),
        "by_group": [
            {
                "group": g,
                "pmf": pis[k].tolist(),
                "repay_probability": perf[k].tolist(),
                "outcome_curve": {
                    "selection_rate": (1 - cdfs[k])[::-1].tolist(),
                    "expected_score_change": _from_top(moves[k] * pis[k]).tolist(),
                },
                "harm_threshold": harm_threshold(pis[k], scores, moves[k]),
            }
            for k, g in enumerate(GROUPS)
        ],
        "settings": [_setting(u, lending, moves, scores) for u in utilities],
    }


def _html(report: dict[str, Any]) -> str:
    curves = line_chart(
        "Expected score change by selection rate (outcome curves)",
        {
            g["group"]: (
                g["outcome_curve"]["selection_rate"],
                g["outcome_curve"]["expected_score_change"],
            )
            for g in report["by_group"]
        },
        x_label="selection rate",
        y_label="expected score change",
    )
    rows = []
    for s in report["settings"]:
        for p in s["policies"]:
            cells = "".join(
                f"<td>{p['selection_rate'][k]:.4f}</td><td>{p['expected_score_change'][k]:+.3f}</td>"
                f"<td>{p['threshold'][k]:.1f}</td>"
                for k in range(len(report["groups"]))
            )
            rows.append(
                f"<tr><td>{s['utility_default']:g} / {s['utility_repaid']:g}</td>"
                f"<td>{escape(p['policy'])}</td>{cells}</tr>"
            )
    head = "".join(
        f"<th>{escape(g)}: selected</th><th>{escape(g)}: Δ score</th>"
        f"<th>{escape(g)}: threshold</th>"
        for g in report["groups"]
    )
    utility = "".join(
        line_chart(
            f"Lender's utility, default {s['utility_default']:g} / repaid {s['utility_repaid']:g},"
            f" by {report['groups'][0]} selection rate",
            {
                name: (report["by_group"][0]["outcome_curve"]["selection_rate"], curve[0])
                for name, curve in s["utility_curves"].items()
            },
            x_label="selection rate",
            y_label="utility",
        )
        for s in report["settings"]
    )
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>Delayed impact of fair lending</title><style>body{font-family:sans-serif;"
        "margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        "</style></head><body>\n"
        f"<h1>Delayed impact of fair lending</h1><p>{escape(report['paper'])}; data:"
        f" {escape(report['data'])}. A repaid loan moves a score by"
        f" {report['impacts']['repaid']:+g}, a default by {report['impacts']['default']:+g}.</p>"
        f"<div>{curves}</div><table><tr><th>utility (default / repaid)</th><th>policy</th>"
        f"{head}</tr>{''.join(rows)}</table><div>{utility}</div></body></html>\n"
    )


def write_report(report: dict[str, Any], directory: Path) -> list[Path]:
    """``report.json`` and ``report.html`` (inline SVG) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "report.json", directory / "report.html"]
    paths[0].write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    paths[1].write_text(_html(report), encoding="utf-8")
    return paths
