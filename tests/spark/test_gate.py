"""The fairness gate on the Spark run (issue 18 item 4, decision 0905): importing a Spark run
puts its card in use, so the same gate as the DuckDB run's stands before the write."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support import run_cli, snapshot

from credo.fairness.bureau import gate_snapshots
from credo.fairness.gate import GateError
from credo.fairness.protected import load_protected
from credo.policy.products import ProductsPolicy, load_products
from credo.settings import Settings
from credo.spark.lake import read_snapshots
from credo.spark.runs import import_run
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import END, PANDAS_WARNING, Scored, copy_db

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]

WHY = "board decision 7: accepted while the card is refit"


def _shelf(both: Scored, folder: Path, *, split: bool) -> tuple[Path, Path]:
    """A protected file whose ``grp`` is "low" for the lower-scoring half of the Spark run and
    a products file cutting at its median (``split``: a ratio of 0), or a cut under every score
    (everyone approved: no ratio under 0.8)."""
    truth = pq.read_table(both.db.parent / "pop" / "truth" / "persons.parquet").to_pydict()
    nid = dict(zip(truth["person_id"], truth["national_id"], strict=True))
    run = read_snapshots(both.spark_folder / "snapshots").to_pydict()
    ranked = sorted(zip(run["score"], run["person_id"], strict=True))
    median = ranked[len(ranked) // 2][0]
    cut = median if split else ranked[0][0] - 1
    path = folder / "protected.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["national_id", "grp"])
        for score, person in ranked:
            if person in nid:  # the thin file added by the fixture has no national id
                writer.writerow([nid[person], "low" if score < median else "high"])
    shelf = folder / "products.yaml"
    shelf.write_text(
        "kind: products\nname: spark-shelf\nversion: '1'\nproducts:\n"
        "  - {name: loan, purpose: credit_transaction, rules: [{min_score: "
        f"{cut:g}, outcome: approved, terms: {{}}, reason: ok}}],"
        " default: {outcome: declined, terms: {}, reason: below}}\n",
        encoding="utf-8",
    )
    return path, shelf


def _entries(store: Store, action: str) -> list[dict[str, object]]:
    return rows(store.con, "SELECT * FROM audit_log WHERE action = ? ORDER BY seq", [action])


def _load(both: Scored, tmp_path: Path, split: bool) -> tuple[Path, ProductsPolicy, Path]:
    db = copy_db(both.db, tmp_path)
    path, shelf = _shelf(both, tmp_path, split=split)
    with Store.open(Settings(db=db)) as store:
        load_protected(store, path)
    return db, load_products(shelf), shelf


def test_a_flagged_spark_run_is_refused_unless_overridden_on_the_record(
    both: Scored, tmp_path: Path
) -> None:
    db, products, shelf = _load(both, tmp_path, split=True)
    with Store.open(Settings(db=db)) as store:
        before = snapshot(store)
        runs = store.scalar("SELECT count(*) FROM score_runs")
        with pytest.raises(GateError, match=r"adverse impact ratio\(s\) under 0.8 .*: grp = "):
            import_run(store, both.lake, both.spark_folder, products=products)
        assert store.scalar("SELECT count(*) FROM score_runs") == runs  # nothing put in use
        assert not _entries(store, "fairness_override")
        assert len(_entries(store, "protected_read")) == 1  # the gate's read, audited
        before.pop("audit_log", None)
        after = snapshot(store)
        after.pop("audit_log", None)
        assert after == before
        # the same gate as DuckDB's: DuckDB's rows of the month give the same flags
        duck = gate_snapshots(
            store, END, both.lake.manifest.model_id, both.lake.policy(), both.duckdb, WHY, products
        )
    lake = str(both.lake.root)
    refused = run_cli("import", "--lake", lake, "--products", str(shelf), db=db)
    assert refused.returncode == 9 and "not cleared for use" in refused.stderr
    run_cli("import", "--lake", lake, "--products", str(shelf), "--override-why", WHY, db=db,
            check=True)  # fmt: skip
    with Store.open(Settings(db=db)) as store:
        overrides = _entries(store, "fairness_override")
        assert len(overrides) == 1 and overrides[0]["purpose"] == WHY
        assert overrides[0]["actor"] == store.settings.actor and overrides[0]["logged_at"]
        details = json.loads(str(overrides[0]["details"]))
        assert details["as_of"] == END.isoformat() and details["products"] == "spark-shelf 1"
        flagged = {f["group"] for f in details["flags"]}  # the thin file is "(missing)"
        assert "low" in flagged and flagged <= {"low", "(missing)"}
        (release, override) = duck  # the release's fairness report, then the override
        assert (release.action, override.action) == ("fairness.release", "fairness_override")
        assert details["flags"] == override.details["flags"] == release.details["flags"]
        written = _entries(store, "score_monthly")[-1]
        assert written["seq"] == overrides[0]["seq"] + 1  # one transaction: override, then run
        assert "lake:" in str(written["details"])
        assert (
            store.scalar(
                "SELECT persons FROM score_runs WHERE kind = 'monthly' AND as_of = ?", [END]
            )
            == both.duckdb.num_rows
        )


def test_a_fair_spark_run_goes_in_without_an_override(both: Scored, tmp_path: Path) -> None:
    db, products, _ = _load(both, tmp_path, split=False)
    with Store.open(Settings(db=db)) as store:
        run = import_run(store, both.lake, both.spark_folder, products=products)
        assert run.persons == both.duckdb.num_rows
        assert not _entries(store, "fairness_override")
        # the gate's read, then the release's search for less discriminatory alternatives
        reads = [str(r["purpose"]) for r in _entries(store, "protected_read")]
        assert len(reads) == 2 and reads[0].startswith("fairness gate")
        assert reads[1].startswith("search for less discriminatory alternatives")
