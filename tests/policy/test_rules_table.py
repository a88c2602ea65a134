"""docs/rules.md cannot drift: every rule of RULES.md §5 has one row, every test the table
names exists under that name and is named after its row's rule, and every test named after a
rule anywhere under tests/ is in the table, and the counts the page states are the table's."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_IDS = (
    *(f"R-FCRA-{i}" for i in range(1, 18)),
    *(f"R-ECOA-{i}" for i in range(1, 7)),
    "R-GDPR-1", "R-GDPR-2", "R-GDPR-2a", "R-GDPR-3", "R-GDPR-4", "R-GDPR-5", "R-GDPR-6",
    "R-GDPR-6a",
    *(f"R-PIPL-{i}" for i in range(1, 5)),
    *(f"R-CRR-{i}" for i in range(1, 5)),
    *(f"R-BL-{i}" for i in range(1, 7)),
)  # fmt: skip
"""The 45 rule ids of RULES.md §5 (the shared research notes), in their order."""

STATUSES = ("built", "in part", "setting only", "not yet")


def _rows() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("| R-"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            assert cells[0] not in rows, f"{cells[0]} has two rows"
            rows[cells[0]] = cells
    return rows


def _prefix(rule: str) -> str:
    return "test_" + rule.replace("-", "_") + "_"


def _defined_tests() -> dict[str, Path]:
    """Every test function under tests/ named after a rule: {name: file}."""
    found: dict[str, Path] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        for name in re.findall(r"^def (test_R_[A-Z]+_\w+)\(", path.read_text("utf-8"), re.M):
            found[name] = path
    return found


def test_every_rule_has_one_row_with_a_status() -> None:
    rows = _rows()
    assert list(rows) == list(RULE_IDS)
    for rule, cells in rows.items():
        assert len(cells) == 4, rule
        assert cells[2].startswith(STATUSES), f"{rule}: status {cells[2]!r}"


def test_every_named_test_exists_and_is_named_after_its_rule() -> None:
    defined = _defined_tests()
    named: set[str] = set()
    for rule, cells in _rows().items():
        if cells[3] == "not yet":
            assert not cells[2].startswith("built"), f"{rule} is built but names no test"
            continue
        for ref in re.findall(r"`([^`]+)`", cells[3]):
            file, _, name = ref.partition("::")
            assert name.startswith(_prefix(rule)), f"{rule}: {name} is not named after it"
            assert defined.get(name) == ROOT / file, f"{rule}: no {name} in {file}"
            named.add(name)
    assert set(defined) == named, "tests named after a rule but missing from docs/rules.md"


def test_the_counts_the_page_states_are_the_tables() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    stated = {
        k: int(n)
        for k, n in re.findall(r"\*\*(built|in part|setting only|not yet) (\d+)\*\*", text)
    }
    counted = dict.fromkeys(STATUSES, 0)
    for cells in _rows().values():
        counted[next(s for s in STATUSES if cells[2].startswith(s))] += 1
    assert stated == counted, "docs/rules.md states other counts than its table has"
