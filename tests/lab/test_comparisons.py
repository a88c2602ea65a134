"""The comparisons shipped in docs/lab.md are what ``credo simulate`` gives today: the script
that wrote them runs the same commands again and the block must come out byte for byte."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "lab_comparisons.py"


def test_the_docs_comparisons_are_regenerated_identically(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("lab_comparisons", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = script.DOC.read_text(encoding="utf-8")
    shipped = text[text.index(script.BEGIN) : text.index(script.END) + len(script.END) + 1]
    fresh = script.generate(tmp_path)
    assert fresh == shipped, "docs/lab.md is stale: run python scripts/lab_comparisons.py"
    # what the tables say is what the article argues about
    assert "| no-connections |" in fresh and "| cap-next-month |" in fresh
    assert "| suining-2010 |" in fresh
