"""The demo's scoring split into steps (``plan_demo``, ``train_demo``, the monthly runs one at a
time, ``summarise_demo``), each on the store opened afresh as ``benchmarks/demo/steps.py`` runs
them, gives what ``run_demo_scoring`` gives in one go: the same model, the same scores, bands
and reasons every month, the same summary (docs/decisions/0127)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from credo.ingest.batch import ingest_population
from credo.scoring.demo import (
    HISTORY_MONTHS,
    plan_demo,
    run_demo_scoring,
    summarise_demo,
    train_demo,
)
from credo.scoring.monthly import score
from credo.settings import Settings
from credo.sim import Arrivals, generate
from credo.sim.protected import DEMO_LINKS
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import END
from .truth import link_from_truth

#: Enough persons for the demo's balanced vintages to have bad outcomes to fit on.
PEOPLE = 1_200
MONTHS = 3


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    pop = root / "pop"
    generate(PEOPLE, HISTORY_MONTHS + MONTHS, 7, pop, END, links=DEMO_LINKS, arrivals=Arrivals())
    db = root / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, pop, max_reject_rate=0.01)
        link_from_truth(store, pop)
    return db


def _copy(template: Path, folder: Path) -> Settings:
    folder.mkdir()
    db = folder / "credo.duckdb"
    shutil.copy(template, db)
    shutil.copy(template.with_suffix(".key"), db.with_suffix(".key"))
    return Settings(db=db)


def _scores(store: Store) -> list[dict[str, Any]]:
    return rows(
        store.con,
        "SELECT r.as_of, s.person_id, s.score, s.band, s.reason_codes FROM score_snapshots s"
        " JOIN score_runs r USING (run_id) ORDER BY r.as_of, s.person_id",
    )


def test_the_steps_score_as_the_demo_does(demo_db: Path, tmp_path: Path) -> None:
    with Store.open(_copy(demo_db, tmp_path / "whole")) as store:
        whole = run_demo_scoring(store, MONTHS)
        whole_scores = _scores(store)
    settings = _copy(demo_db, tmp_path / "steps")
    with Store.open(settings) as store:
        trained = train_demo(store, plan_demo(store, MONTHS))
    done = []
    with Store.open(settings) as store:
        plan = plan_demo(store, MONTHS)
    for month in plan.runs:  # one month at a time, each on the store opened again
        with Store.open(settings) as store:
            done.append((month, score(store, month, trained.model, plan.policy).run_id))
    with Store.open(settings) as store:
        parts = summarise_demo(store, plan_demo(store, MONTHS), trained, done)
        parts_scores = _scores(store)
    assert len(whole.runs) == MONTHS and len(done) == len(plan.early) + MONTHS
    assert parts.to_dict() | {"runs": None} == whole.to_dict() | {"runs": None}
    assert parts_scores == whole_scores
    assert whole.persons > 0 and whole_scores
