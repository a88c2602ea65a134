"""``credo fairness`` as a user runs it: files in, report.json and a self-contained page out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from support import run_cli

from credo.models import ScorecardModel
from fairness.conftest import write_csv

Population = tuple[dict[str, NDArray[Any]], NDArray[np.int64], dict[str, NDArray[Any]]]


def _files(tmp_path: Path, card: ScorecardModel, population: Population) -> dict[str, Path]:
    X, y, protected = population
    ids = np.array([f"p{i}" for i in range(len(y))], dtype=object)
    order = np.random.default_rng(3).permutation(len(y))
    card.save(tmp_path / "card.json")
    return {
        "model": tmp_path / "card.json",
        "table": write_csv(tmp_path / "t.csv", {"id": ids, **X, "bad": y}),
        "rows": write_csv(tmp_path / "p_rows.csv", protected),
        "shuffled": write_csv(
            tmp_path / "p_ids.csv",
            {"id": ids[order], **{k: v[order] for k, v in protected.items()}},
        ),
    }


def _run(files: dict[str, Path], protected: str, out: Path, *extra: str) -> Any:
    return run_cli(
        "fairness", "--model", str(files["model"]), "--table", str(files["table"]),
        "--target", "bad", "--protected", str(files[protected]), "--approve-share", "0.8",
        "--cut", "500", "--out", str(out), *extra,
    )  # fmt: skip


def test_joined_by_id_or_row_by_row_the_report_is_the_same(
    tmp_path: Path, card: ScorecardModel, population: Population
) -> None:
    files = _files(tmp_path, card, population)
    by_rows = _run(files, "rows", tmp_path / "a")
    by_ids = _run(files, "shuffled", tmp_path / "b", "--id", "id")
    assert by_rows.returncode == 0 and by_ids.returncode == 0, by_rows.stderr + by_ids.stderr
    first = json.loads((tmp_path / "a" / "report.json").read_text())
    second = json.loads((tmp_path / "b" / "report.json").read_text())
    assert first == second
    assert first["format"] == "credo.fairness.audit" and first["rows"] == len(population[1])
    assert [c["label"] for c in first["cuts"]] == ["top 0.8", "score >= 500"]
    assert first["cuts"][0]["approval_rate"] >= 0.8
    assert "AIR under 0.8" in by_rows.stdout
    page = (tmp_path / "a" / "report.html").read_text()
    assert page.count("<svg") >= 4
    assert not re.search(r"(src|href)=", page)


def test_a_table_row_without_protected_attributes_is_refused_and_nothing_written(
    tmp_path: Path, card: ScorecardModel, population: Population
) -> None:
    files = _files(tmp_path, card, population)
    lines = files["shuffled"].read_text().splitlines()
    files["shuffled"].write_text("\n".join(lines[:-1]) + "\n")
    proc = _run(files, "shuffled", tmp_path / "out", "--id", "id")
    assert proc.returncode == 3
    assert "p_ids.csv" in proc.stderr and "not in" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_share_out_of_range_is_refused(
    tmp_path: Path, card: ScorecardModel, population: Population
) -> None:
    files = _files(tmp_path, card, population)
    proc = _run(files, "rows", tmp_path / "out", "--approve-share", "1.5")
    assert proc.returncode == 3 and "--approve-share '1.5'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_blank_attributes_are_their_own_group_and_duplicate_ids_are_refused(
    tmp_path: Path, card: ScorecardModel, population: Population
) -> None:
    files = _files(tmp_path, card, population)
    lines = files["rows"].read_text().splitlines()
    lines[1] = "," + lines[1].split(",", 1)[1]
    files["rows"].write_text("\n".join(lines) + "\n")
    assert _run(files, "rows", tmp_path / "a").returncode == 0
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    groups = {g["group"]: g["n"] for g in report["attributes"][0]["groups"]}
    assert groups["(missing)"] == 1
    shuffled = files["shuffled"].read_text().splitlines()
    files["shuffled"].write_text("\n".join([*shuffled, shuffled[1]]) + "\n")
    proc = _run(files, "shuffled", tmp_path / "b", "--id", "id")
    assert proc.returncode == 3 and "appears twice" in proc.stderr
