"""Issue 14's targets, read from a demo database: band shares and drift per scored month, the
monthly change of each person's score, and the model's fit out of time.

    python scripts/demo_targets.py demo/credo.duckdb

Per monthly run (oldest first): persons, share below 550, excellent (700+) and 750+, mean
score and its change from the month before; then each person's change from one month to the
next over all months (median, p90, p99, all persons and without court listings, as
tests/scoring/test_stability.py counts them); then the fit summary kept beside the model the
runs used (docs/decisions/0536).
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

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


def main(db: str) -> None:
    con = duckdb.connect(db, read_only=True)
    months = con.sql(MONTHS).fetchall()
    print("month       persons  <550   700+   750+   mean   drift  best")
    previous = None
    for as_of, n, below, excellent, fast, mean, best, _ in months:
        drift = "" if previous is None else f"{mean - previous:+6.1f}"
        print(
            f"{as_of}  {n:7,}  {below:5.1%}  {excellent:5.1%}  {fast:5.1%}  {mean:5.1f}"
            f"  {drift:>6}  {best:.0f}"
        )
        previous = mean
    drifts = [abs(b[5] - a[5]) for a, b in itertools.pairwise(months)]
    if drifts:
        print(f"mean absolute month-to-month drift of the mean: {sum(drifts) / len(drifts):.2f}")
    every, listed_out = con.sql(CHANGES).fetchall()[0]
    print(f"monthly change, all persons: median {every[0]:g}, p90 {every[1]:g}, p99 {every[2]:g}")
    print(
        f"monthly change, without court listings: median {listed_out[0]:g},"
        f" p90 {listed_out[1]:g}, p99 {listed_out[2]:g}"
    )
    model_id = months[-1][7] if months else None
    digest = str(model_id).removeprefix("sha256:")
    for fit in sorted((Path(db).parent / "models").glob(f"*.{digest}.fit.json")):
        print(f"fit of {model_id}: {json.dumps(json.loads(fit.read_text()), sort_keys=True)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "demo/credo.duckdb")
