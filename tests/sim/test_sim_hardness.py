"""Identity-hardness presets: realistic is the default untouched, hard realises its phenomena."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sim_reference import SMALL, tree_bytes

from credo.sim import HARDNESS, GenerationSummary, NoiseConfig, generate
from credo.sim.noise import _digit_typo

HARD = {"people": 600, "months": 3, "seed": 5}


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(out=tmp_path_factory.mktemp("hard"), noise=HARDNESS["hard"], **HARD)


def test_realistic_is_the_default_and_its_files_are_unchanged(
    small: GenerationSummary, tmp_path: Path
) -> None:
    assert HARDNESS["realistic"] == NoiseConfig()
    again = generate(out=tmp_path, noise=HARDNESS["realistic"], **SMALL)
    assert tree_bytes(again.out) == tree_bytes(small.out)


def test_presets_grow_harder_knob_by_knob() -> None:
    easy, realistic, hard = (HARDNESS[h] for h in ("easy", "realistic", "hard"))
    for f in fields(NoiseConfig):
        if f.name == "second_phone_use":  # how often a second phone is used, not a difficulty
            continue
        values = [getattr(c, f.name) for c in (easy, realistic, hard)]
        assert values[0] <= values[1] < values[2], f.name


def test_hard_preset_realises_its_rates(hard: GenerationSummary) -> None:
    manifest = json.loads(hard.manifest.read_text("utf-8"))
    config = HARDNESS["hard"]
    realised = manifest["noise"]["records"]
    assert manifest["noise"]["config"] == config.to_dict()
    expected = {
        "script_variant": config.script_variant,
        "dob_digit_typo": config.dob_digit_typo,
        "missing_phone": config.missing_field + config.missing_contact,
        "name_typo": config.name_typo,
    }
    for kind, rate in expected.items():
        entry = realised[kind]
        assert entry["eligible"] > 100, kind
        tolerance = 3 * (rate * (1 - rate) / entry["eligible"]) ** 0.5 + 0.005
        assert abs(entry["rate"] - rate) < tolerance, (kind, entry)


def _shared_names(summary: GenerationSummary) -> float:
    """Share of persons whose full name another person with another birth date also has."""
    persons = pq.read_table(summary.truth_persons, columns=["name", "birth_date"]).to_pylist()
    dates: dict[str, set[object]] = {}
    for p in persons:
        dates.setdefault(p["name"], set()).add(p["birth_date"])
    counts = Counter(p["name"] for p in persons)
    shared = sum(1 for p in persons if counts[p["name"]] > 1 and len(dates[p["name"]]) > 1)
    return shared / len(persons)


def test_hard_preset_has_namesakes(hard: GenerationSummary, tmp_path: Path) -> None:
    realistic = generate(out=tmp_path, **HARD)
    assert _shared_names(hard) > _shared_names(realistic) + 0.05


def test_a_digit_typo_is_a_valid_date_one_digit_off() -> None:
    rng = np.random.default_rng(3)
    for day in np.arange(np.datetime64("1950-01-01"), np.datetime64("2005-12-31"), 97):
        typed = _digit_typo(day, rng)
        a, b = str(day).replace("-", ""), str(typed).replace("-", "")
        assert sum(x != y for x, y in zip(a, b, strict=True)) == 1, (day, typed)
