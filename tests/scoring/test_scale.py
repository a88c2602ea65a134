"""The published scale (issue 14, item 1; docs/decisions/0530), alerts over a year of scores
(item 5; decision 0533) and model files that are never overwritten (item 6; decision 0532)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math

import numpy as np
import pytest

from credo.errors import ConflictError
from credo.policy import load_policy
from credo.policy.schema import ScoringPolicy
from credo.rights import feed
from credo.scoring import explain_score, score, train_model
from credo.scoring.demo import month_ends
from credo.scoring.registry import fit_file, load_model, model_dir, read_fit
from credo.scoring.train import training_table
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import END

OBS = dt.date(2025, 10, 31)
POLICY = load_policy("zhima").policy
assert isinstance(POLICY, ScoringPolicy)


@pytest.fixture
def trained(loaded: Store) -> Store:
    train_model(loaded, OBS)
    return loaded


def test_each_band_publishes_its_default_probability(trained: Store) -> None:
    score(trained, END)
    person = trained.scalar("SELECT min(person_id) FROM score_snapshots WHERE score > 560")
    scale = explain_score(trained, person).scale
    assert scale["points_to_double_odds"] == POLICY.calibration.pdo
    assert scale["anchor_score"] == 550 and scale["new_user_score"] == 550
    bands = scale["bands"]
    assert [b["band"] for b in bands] == [b.name for b in POLICY.bands]
    for band, better in itertools.pairwise(bands):
        assert 0 < band["bad_rate_low"] < band["bad_rate_high"] < 1
        # One point up the scale is a little safer: the ranges meet, nothing overlaps.
        assert better["bad_rate_high"] < band["bad_rate_low"]
    # score = offset + factor * ln(good:bad odds), read back at every band's ends.
    for band in bands:
        for points, rate in ((band["min_score"], band["bad_rate_high"]),
                             (band["max_score"], band["bad_rate_low"])):  # fmt: skip
            odds = (1 - rate) / rate
            assert scale["offset"] + scale["factor"] * math.log(odds) == pytest.approx(points)
    # The points to double the odds double them anywhere on the scale.
    model = load_model(trained, scale["model_id"])
    at = np.linspace(350, 900, 12)
    p = model.probability_from_points(np.concatenate([at, at + scale["points_to_double_odds"]]))
    odds = (1 - p) / p
    assert odds[12:] / odds[:12] == pytest.approx(np.full(12, 2.0), rel=1e-6)


def test_every_change_beyond_the_threshold_alerts_and_names_its_month(trained: Store) -> None:
    runs = [score(trained, m).run_id for m in month_ends(END, 12)]
    threshold = POLICY.alerts.score_change_points
    moved = rows(
        trained.con,
        "SELECT person_id, as_of, trend FROM score_snapshots WHERE list_contains(?, run_id)"
        " AND trend IS NOT NULL",
        [runs],
    )
    expected: dict[str, set[tuple[str, dt.date]]] = {}
    for m in moved:
        expected.setdefault(m["person_id"], set())
        if abs(m["trend"]) >= threshold:
            expected[m["person_id"]].add((f"{m['as_of']:%B %Y}", m["as_of"]))
    alerted = [p for p, months in expected.items() if months]
    quiet = [p for p, months in expected.items() if not months]
    # Some persons moved by exactly the threshold or just below it over the year.
    near = {m["person_id"] for m in moved if threshold - 5 <= abs(m["trend"]) <= threshold}
    assert len(alerted) >= 20 and near
    for person in sorted(set(alerted) | near | set(quiet[:50])):
        got = {
            (a["text"].split(" score:")[0].removeprefix("Your "), a["about"])
            for a in feed(trained, person)
            if a["kind"] == "score_change"
        }
        assert got == expected[person], person


def test_training_again_never_overwrites_a_model_file(loaded: Store) -> None:
    first = train_model(loaded, OBS)
    assert first.path is not None and first.path.parent == model_dir(loaded)
    assert first.model.model_id.removeprefix("sha256:") in first.path.name
    published = first.path.read_bytes()
    assert train_model(loaded, OBS).path == first.path  # the same table: the same file
    # Another table of the same version (date): before decision 0532 it replaced the file.
    again = train_model(loaded, OBS, outcome_months=6)
    assert again.model.table.model_version == first.model.table.model_version
    assert again.model.model_id != first.model.model_id
    assert again.path != first.path and again.path is not None and again.path.exists()
    assert first.path.read_bytes() == published
    first.path.write_text(published.decode().replace('"pdo"', '"pdo" '), encoding="utf-8")
    with pytest.raises(ConflictError, match="never overwritten"):
        train_model(loaded, OBS, known_at=first.known_at)


def test_stacked_vintages_and_an_out_of_time_fit_kept_beside_the_model(loaded: Store) -> None:
    dates = [dt.date(2025, 8, 31), dt.date(2025, 9, 30), dt.date(2025, 10, 31)]
    holdout = dt.date(2026, 1, 31)
    trained = train_model(loaded, dates[-1], vintages=3, holdout=holdout, outcome_months=6)
    assert trained.vintages == [dt.date(2025, 8, 31), dt.date(2025, 9, 30), dates[-1]]
    policy = POLICY
    known = trained.known_at
    tables = [
        training_table(loaded, d, policy=policy, known_at=known, outcome_months=6) for d in dates
    ]
    assert trained.rows == sum(int(t.performing.sum()) for t in tables)
    assert trained.bad_rows == sum(int(t.bad[t.performing].sum()) for t in tables)
    later = training_table(loaded, holdout, policy=policy, known_at=known, outcome_months=6)
    fit = trained.fit
    assert fit["holdout"] == holdout.isoformat()
    assert fit["in_time"]["rows"] == trained.rows and fit["in_time"]["bads"] == trained.bad_rows
    assert fit["out_of_time"]["rows"] == int(later.performing.sum())
    for part in ("in_time", "out_of_time"):
        assert 0.5 < fit[part]["auc"] <= 1
        assert fit[part]["gini"] == pytest.approx(2 * fit[part]["auc"] - 1, abs=1e-4)
        assert 0 < fit[part]["ks"] <= 1
    assert trained.path is not None
    assert read_fit(loaded, trained.model) == fit
    assert json.loads(fit_file(trained.path).read_text()) == fit
