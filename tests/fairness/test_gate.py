"""The gate: a flagged card is refused unless an override is put on the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from support import run_cli

from credo.fairness.audit import audit
from credo.fairness.gate import GateError, gate, product_cuts
from credo.fairness.inputs import CutSpec
from credo.models import ScorecardModel
from credo.policy.products import load_products
from credo.store.db import Store
from credo.store.rows import rows
from fairness.conftest import write_csv

Population = tuple[dict[str, NDArray[Any]], NDArray[np.int64], dict[str, NDArray[Any]]]


def test_product_cuts_are_every_rule_floor_once() -> None:
    products = load_products(Path(__file__).parents[2] / "policies" / "products.yaml")
    floors = {r.min_score for p in products.products for r in p.rules}
    assert [c.score for c in product_cuts(products)] == sorted(map(float, floors), reverse=True)


def test_a_flagged_card_is_refused_and_an_override_is_recorded(
    card: ScorecardModel, population: Population, store: Store
) -> None:
    X, y, protected = population
    groups = {"group": np.asarray(protected["group"], dtype=np.str_)}
    flagged = audit(card, X, y, groups, [CutSpec.parse_share("0.5")])
    assert flagged.flags
    with pytest.raises(GateError, match=rf"model {card.model_id} .* not cleared for use"):
        gate(flagged, store, None)
    with pytest.raises(GateError):
        gate(flagged, store, "   ")
    seq = gate(flagged, store, "pilot limited to 500 loans; reviewed by the risk committee")
    logged = rows(store.con, "SELECT * FROM audit_log WHERE seq = ?", [seq])[0]
    assert logged["action"] == "fairness_override"
    assert logged["target"] == f"model:{card.model_id}"
    assert logged["actor"] == store.settings.actor
    assert logged["purpose"].startswith("pilot limited")
    assert json.loads(logged["details"])["flags"] == flagged.flags
    everyone = audit(card, X, y, groups, [CutSpec.parse_share("1")])
    assert not everyone.flags and gate(everyone, store, None) is None


def test_the_gate_through_the_cli(
    tmp_path: Path, card: ScorecardModel, population: Population
) -> None:
    X, y, protected = population
    card.save(tmp_path / "card.json")
    write_csv(tmp_path / "t.csv", {**X, "bad": y})
    write_csv(tmp_path / "p.csv", {"group": protected["group"]})
    db = tmp_path / "c.duckdb"
    run_cli("init", db=db, check=True)
    base = ["fairness", "--model", str(tmp_path / "card.json"), "--table", str(tmp_path / "t.csv")]
    base += ["--target", "bad", "--protected", str(tmp_path / "p.csv"), "--approve-share", "0.5"]
    base += ["--out", str(tmp_path / "r"), "--gate"]
    refused = run_cli(*base, db=db)
    assert refused.returncode == 9 and "not cleared for use" in refused.stderr
    assert (tmp_path / "r" / "report.json").exists()
    cleared = run_cli(*base, "--override-why", "known gap, remediation plan 12", db=db)
    assert cleared.returncode == 0, cleared.stderr
    assert "gate overridden on the record: audit log entry" in cleared.stdout
    verify = run_cli("audit", "verify", db=db)
    assert verify.returncode == 0, verify.stderr
