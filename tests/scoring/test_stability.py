"""Scores move a few points a month (SPEC reference values, issue 14's targets), measured on
the demo's own population and training at half its size: what ``credo demo`` generates (seed 7,
a steady population with arrivals, ``HISTORY_MONTHS`` of history before the 12 months scored),
trained and scored by the demo's own ``run_demo_scoring`` (stacked balanced vintages, the
out-of-time holdout, the anchor on the scored year), then each person's change from one month
to the next.

Thresholds: a bureau expects most files to move by no more than a few points in a month with
nothing new in them, and a tenth of files (a late bill, a new loan, a move) by up to about a
third of a band; the issue's target is a median of at most 5 and a p99 of at most 45.

Why this population (docs/decisions/0540): monthly moves grow with the spread of a feature's
points, and a scorecard fitted on few bad outcomes has steep, noisy steps. The earlier proxy
(800 persons, 24 months, no arrivals, one observation date) fitted its model on 124 rows with 8
bads, and at pdo 24 its p99 was 48 while the 10k demo's was 33. At the demo's configuration the
moves shrink as the bads grow (pdo 24, seed 7; loaded machine): 2,000 persons, 265 training
bads, p99 45 and 9.9% at 750+; 5,000 persons, 547 bads, median 2, p90 14, p99 36, 4.2% at 750+
(the 10k demo: 1,786 bads, median 1, p99 33, 1.9-2.7% at 750+). Stability bought by a flatter
scale would fail the spread and the 750+ share asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from credo.ingest.batch import ingest_population
from credo.scoring.demo import HISTORY_MONTHS, run_demo_scoring
from credo.settings import Settings
from credo.sim import Arrivals, generate
from credo.sim.protected import DEMO_LINKS
from credo.store.db import Store

from .conftest import END
from .truth import link_from_truth

#: Half the demo's 10,000: enough bad outcomes (about 550) for the fitted points to be as
#: steady as the demo's; the test takes about a minute of CPU.
PEOPLE = 5_000
MONTHS = 12


@pytest.fixture
def steady(tmp_path: Path) -> Iterator[Store]:
    """The demo's population (``credo demo``'s generation, linked from the ground truth)."""
    generate(
        PEOPLE,
        HISTORY_MONTHS + MONTHS,
        7,
        tmp_path / "pop",
        END,
        links=DEMO_LINKS,
        arrivals=Arrivals(),
    )
    with Store.open(Settings(db=tmp_path / "credo.duckdb")) as store:
        ingest_population(store, tmp_path / "pop", max_reject_rate=0.01)
        link_from_truth(store, tmp_path / "pop")
        yield store


def test_scores_move_a_few_points_a_month(steady: Store) -> None:
    result = run_demo_scoring(steady, MONTHS)
    assert len(result.runs) == MONTHS
    changes = np.array(
        [
            abs(now - before)
            for now, before in steady.con.execute(
                "SELECT s.score, s.previous_score FROM score_snapshots s"
                " WHERE list_contains(?, s.run_id) AND s.previous_score IS NOT NULL"
                " AND NOT s.capped AND len(s.court_listings) = 0",
                [result.runs[1:]],
            ).fetchall()
        ]
    )
    assert len(changes) > (MONTHS - 1) * PEOPLE * 0.6
    median, p90, p99 = np.quantile(changes, [0.5, 0.9, 0.99])
    assert median <= 5, f"median monthly change {median}"
    assert p90 <= 20, f"p90 monthly change {p90}"
    assert p99 <= 45, f"p99 monthly change {p99}"
    # Against buying stability with a flatter scale: the scale is used, every month.
    months = steady.con.execute(
        "SELECT as_of, avg((score < 550)::INT), avg((score >= 750)::INT), avg(score),"
        " quantile_cont(score, 0.95) - quantile_cont(score, 0.05)"
        " FROM score_snapshots WHERE list_contains(?, run_id) GROUP BY as_of ORDER BY as_of",
        [result.runs],
    ).fetchall()
    assert len(months) == MONTHS
    for as_of, below, fast_lane, _, spread in months:
        assert 0.04 <= below <= 0.06, f"{as_of}: {below:.1%} below 550"
        assert fast_lane >= 0.01, f"{as_of}: {fast_lane:.1%} at 750 or over"
        assert spread >= 60, f"{as_of}: 5th to 95th percentile spread {spread}"
    drift = np.abs(np.diff([m[3] for m in months])).mean()
    assert drift <= 3, f"mean month-to-month drift {drift:.2f}"
