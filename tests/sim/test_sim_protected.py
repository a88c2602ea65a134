"""The synthetic population's protected attributes (issue 18 item 5): drawn apart, written apart,
and bending income, education and contacts exactly as much as the generator's links say."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from credo.sim import generate
from credo.sim.persons import EDUCATION, Persons, generate_persons
from credo.sim.protected import DEMO_LINKS, ProtectedLinks, age_band
from credo.sim.sources.social_graph import friendships
from credo.sim.window import Window

WINDOW = Window.ending(dt.date(2026, 10, 31), 24)


def _persons(links: ProtectedLinks, n: int = 4000) -> Persons:
    return generate_persons(
        np.random.default_rng([3, 0]), n, WINDOW, twin_rate=0.0, second_phone_rate=0.0,
        mover_rate=0.0, surname_change_rate=0.0, links=links,
        protected_rng=np.random.default_rng([3, 23]),
    )  # fmt: skip


def test_links_shift_income_education_and_contacts_by_exactly_their_parameters() -> None:
    plain, linked = _persons(ProtectedLinks()), _persons(DEMO_LINKS)
    # the same people: creditworthiness and the attributes themselves do not move
    assert np.array_equal(plain.latent, linked.latent)
    assert np.array_equal(plain.hukou, linked.hukou)
    assert np.array_equal(plain.ethnicity, linked.ethnicity)
    shift = np.log(linked.income) - np.log(plain.income)
    expected = (
        DEMO_LINKS.female_log_income * plain.female
        + DEMO_LINKS.minority_log_income * (plain.ethnicity == "minority")
        + DEMO_LINKS.rural_log_income * (plain.hukou == "rural")
    )
    assert np.allclose(shift, expected, atol=1e-3)  # incomes are whole yuan
    level = {e: k for k, e in enumerate(EDUCATION)}
    before = np.array([level[e] for e in plain.education])
    after = np.array([level[e] for e in linked.education])
    rural = plain.hukou == "rural"
    assert (after <= before).all() and (after[rural] < before[rural]).mean() > 0.3
    urban_men_han = (plain.hukou == "urban") & ~plain.female & (plain.ethnicity == "han")
    assert np.array_equal(after[urban_men_han], before[urban_men_han])
    degree = np.bincount(np.concatenate(friendships(linked, np.random.default_rng(1))),
                         minlength=linked.n)  # fmt: skip
    flat = np.bincount(np.concatenate(friendships(plain, np.random.default_rng(1))),
                       minlength=plain.n)  # fmt: skip
    assert flat[rural].mean() == pytest.approx(flat[~rural].mean(), rel=0.1)
    assert degree[rural].mean() < 0.9 * degree[~rural].mean()


def test_shares_and_groups() -> None:
    p = _persons(ProtectedLinks(minority_share=0.2, rural_share=0.5))
    chinese = p.chinese
    assert set(p.ethnicity[~chinese]) == {"foreign"} and set(p.hukou[~chinese]) == {"none"}
    assert (p.ethnicity[chinese] == "minority").mean() == pytest.approx(0.2, abs=0.03)
    assert (p.hukou[chinese] == "rural").mean() == pytest.approx(0.5, abs=0.03)
    assert age_band(np.array([18.0, 24.99, 25.0, 64.9, 65.0, 80.0])).tolist() == [
        "18-24", "18-24", "25-34", "55-64", "65+", "65+",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="rural_share must be between 0 and 1"):
        ProtectedLinks(rural_share=1.5)


def test_the_protected_file_is_written_apart_from_the_sources(tmp_path: Path) -> None:
    summary = generate(50, 3, 2, tmp_path / "pop", links=DEMO_LINKS)
    manifest = json.loads((tmp_path / "pop" / "manifest.json").read_text(encoding="utf-8"))
    assert "protected" not in manifest["sources"]
    entry = manifest["protected"]
    assert entry["attributes"] == ["sex", "ethnicity", "hukou", "age_band"]
    assert entry["links"]["rural_contacts"] == DEMO_LINKS.rural_contacts
    with (tmp_path / "pop" / entry["file"]).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == summary.people == 50
    assert {r["sex"] for r in rows} <= {"female", "male"}
    assert all(len(r["national_id"]) == 18 for r in rows)
