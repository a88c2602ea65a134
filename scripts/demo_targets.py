"""Issue 14's targets, read from a demo database, each with PASS or FAIL: band shares and drift
per scored month, the monthly change of each person's score, and the model's fit out of time.

    python scripts/demo_targets.py demo/credo.duckdb

Per monthly run (oldest first): persons, share below 550, excellent (700+) and 750+, mean
score and its change from the month before, and whether that month meets the band targets;
then each person's change from one month to the next over all months (median, p90, p99, all
persons and without court listings, as tests/scoring/test_stability.py counts them); then the
fit summary kept beside the model the runs used (docs/decisions/0536, 0539). Exits 1 if any
target fails.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import duckdb

MONTHS = """
SELECT r.as_of, count(*) AS persons, avg((s.score < 550)::INT) AS below_550,
  avg((s.score >= 700)::INT) AS excellent, avg((s.score >= 750)::INT) AS fast_lane,
  avg(s.score) AS mean, max(s.score) AS best, any_value(r.model_id) AS model_id
FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id
WHERE r.kind = 'monthly' GROUP BY r.as_of ORDER BY r.as_of
"""
CHANGES = """
SELECT quantile_cont(abs(trend), [0.5, 0.9, 0.99]) AS all_persons,
  quantile_cont(abs(trend), [0.5, 0.9, 0.99])
    FILTER (WHERE NOT capped AND len(court_listings) = 0) AS without_listings
FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id
WHERE r.kind = 'monthly' AND s.trend IS NOT NULL
"""
#: Issue 14's targets.
BELOW_550 = (0.04, 0.06)
EXCELLENT_MIN = 0.05
FAST_LANE_MIN = 0.01
DRIFT_MAX = 3.0
MEDIAN_CHANGE_MAX = 5.0
P99_CHANGE_MAX = 45.0
OOT_AUC_MIN = 0.85
TRAINING_BADS_MIN = 1000


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def month_ok(below: float, excellent: float, fast: float) -> bool:
    """One scored month's band targets: below 550 in 4–6%, excellent ≥ 5%, 750+ ≥ 1%."""
    return (
        BELOW_550[0] <= below <= BELOW_550[1]
        and excellent >= EXCELLENT_MIN
        and fast >= (FAST_LANE_MIN)
    )


def fit_checks(fit: dict[str, Any]) -> list[tuple[str, bool]]:
    """The model's targets: enough training bads, out-of-time AUC, an honest holdout."""
    out = fit.get("out_of_time", {})
    bads = int(fit.get("in_time", {}).get("bads", 0))
    auc = float(out.get("auc", 0.0))
    overlap = fit.get("outcome_overlap_months")
    return [
        (f"training bads {bads:,} >= {TRAINING_BADS_MIN:,}", bads >= TRAINING_BADS_MIN),
        (
            f"out-of-time AUC {auc:.3f} >= {OOT_AUC_MIN}"
            f" ({out.get('bads', 0):,} bad rows, {out.get('bad_persons', 0):,} bad persons,"
            f" KS {out.get('ks', 0.0):.3f}, Gini {out.get('gini', 0.0):.3f},"
            f" bad rate {out.get('bad_rate', 0.0):.2%} vs predicted"
            f" {out.get('mean_predicted_pd', 0.0):.2%})",
            auc >= OOT_AUC_MIN,
        ),
        (
            f"holdout outcomes overlap training's by {overlap} months (0 wanted)",
            overlap == 0,
        ),
    ]


def main(db: str) -> int:
    con = duckdb.connect(db, read_only=True)
    months = con.sql(MONTHS).fetchall()
    checks: list[tuple[str, bool]] = []
    print("month       persons  <550   700+   750+   mean   drift  best  targets")
    previous = None
    for as_of, n, below, excellent, fast, mean, best, _ in months:
        drift = "" if previous is None else f"{mean - previous:+6.1f}"
        ok = month_ok(below, excellent, fast)
        checks.append((f"{as_of} bands", ok))
        print(
            f"{as_of}  {n:7,}  {below:5.1%}  {excellent:5.1%}  {fast:5.1%}  {mean:5.1f}"
            f"  {drift:>6}  {best:.0f}   {verdict(ok)}"
        )
        previous = mean
    drifts = [abs(b[5] - a[5]) for a, b in itertools.pairwise(months)]
    if drifts:
        mean_drift = sum(drifts) / len(drifts)
        checks.append(
            (f"mean absolute drift {mean_drift:.2f} <= {DRIFT_MAX}", mean_drift <= DRIFT_MAX)
        )
    every, listed_out = con.sql(CHANGES).fetchall()[0]
    print(f"monthly change, all persons: median {every[0]:g}, p90 {every[1]:g}, p99 {every[2]:g}")
    print(
        f"monthly change, without court listings: median {listed_out[0]:g},"
        f" p90 {listed_out[1]:g}, p99 {listed_out[2]:g}"
    )
    checks.append(
        (f"median change {every[0]:g} <= {MEDIAN_CHANGE_MAX:g}", every[0] <= MEDIAN_CHANGE_MAX)
    )
    checks.append((f"p99 change {every[2]:g} <= {P99_CHANGE_MAX:g}", every[2] <= P99_CHANGE_MAX))
    model_id = months[-1][7] if months else None
    digest = str(model_id).removeprefix("sha256:")
    fits = sorted((Path(db).parent / "models").glob(f"*.{digest}.fit.json"))
    for path in fits:
        fit = json.loads(path.read_text())
        print(f"fit of {model_id}: {json.dumps(fit, sort_keys=True)}")
        checks += fit_checks(fit)
    if not fits:
        checks.append((f"a fit summary beside model {model_id}", False))
    if not months:
        checks.append(("monthly runs in the database", False))
    print()
    for label, ok in checks:
        print(f"{verdict(ok)}  {label}")
    failed = sum(1 for _, ok in checks if not ok)
    print(f"{len(checks) - failed} of {len(checks)} targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "demo/credo.duckdb"))
