"""Protected attributes on the bureau (issue 18 item 3): their own source and encrypted table,
out of the feature catalogue's reach, read only by the audit and every read audited; and
``credo fairness --as-of`` over the monthly scores at every product cut."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlglot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scoring.truth import link_from_truth
from sqlglot import exp
from support import run_cli

from credo.errors import ConfigError, InputError
from credo.fairness.bureau import (
    ALTERNATIVES_SAMPLE,
    _labels,
    audit_month,
    gate_run,
    observed_month,
)
from credo.fairness.gate import GateError
from credo.fairness.inputs import MISSING
from credo.fairness.protected import PROTECTED_TABLE, load_protected, read_protected_columns
from credo.features import CATALOGUE, PointInTime, features_sql
from credo.features.catalogue import Feature
from credo.ingest.batch import ingest_population
from credo.models.table import ScorecardModel
from credo.policy.products import ProductsPolicy, load_products
from credo.scoring import run_demo_scoring
from credo.settings import Settings
from credo.sim import generate
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import rows
from credo.store.schema import PROTECTED_TABLES
from fairness import reference
from fairness.reference import read_protected

END = dt.date(2026, 10, 31)
CREDO = Path(__file__).resolve().parents[2] / "credo"


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dt.date]]:
    """A scored bureau (13 month-ends: the demo's 12 and, before them, the month whose outcome
    year the events just cover) and the population's protected file, not yet loaded."""
    root = tmp_path_factory.mktemp("bureau")
    generate(700, 30, 5, root / "pop", END)
    db = root / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, root / "pop", max_reject_rate=0.01)
        link_from_truth(store, root / "pop")
        scored = run_demo_scoring(store, months=12)
    assert scored.observed_month == dt.date(2025, 10, 31) < scored.months[0]
    return db, root / "pop", [scored.observed_month, *scored.months]


@pytest.fixture
def store(bureau: tuple[Path, Path, list[dt.date]], tmp_path: Path) -> Iterator[Store]:
    db = tmp_path / "credo.duckdb"
    shutil.copy(bureau[0], db)
    shutil.copy(bureau[0].with_suffix(".key"), db.with_suffix(".key"))
    with Store.open(Settings(db=db)) as s:
        yield s


def _protected_truth(population: Path) -> dict[str, dict[str, str]]:
    """Per attribute, each true person's value, from the generator's files (the test's own
    computation, not Credo's)."""
    import pyarrow.parquet as pq

    truth = pq.read_table(population / "truth" / "persons.parquet").to_pydict()
    person_of = dict(zip(truth["national_id"], truth["person_id"], strict=True))
    with (population / "protected" / "protected.csv").open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    names = [k for k in records[0] if k != "national_id"]
    return {n: {person_of[r["national_id"]]: r[n] for r in records} for n in names}


def _audit_entries(store: Store, action: str) -> list[dict[str, object]]:
    return rows(store.con, "SELECT * FROM audit_log WHERE action = ? ORDER BY seq", [action])


def test_protected_values_are_encrypted_keyed_by_hash_and_loaded_once(
    store: Store, bureau: tuple[Path, Path, list[dt.date]]
) -> None:
    path = bureau[1] / "protected" / "protected.csv"
    first = load_protected(store, path)
    assert first.new and first.attributes == ["sex", "ethnicity", "hukou", "age_band"]
    held = rows(store.con, f"SELECT * FROM {PROTECTED_TABLE}")
    assert len(held) == first.rows * 4 == 700 * 4
    text = path.read_text(encoding="utf-8")
    some_id = text.splitlines()[1].split(",")[0]
    for row in held:
        blob = bytes(row["ciphertext"])
        for plain in (b"rural", b"urban", b"minority", b"female", b"male", b"han"):
            assert plain not in blob
        assert row["id_hash"] != some_id and len(row["id_hash"]) < len(some_id) + 20
    assert some_id not in json.dumps([r["id_hash"] for r in held])
    again = load_protected(store, path)
    assert not again.new and again.load_id == first.load_id
    assert store.scalar(f"SELECT count(*) FROM {PROTECTED_TABLE}") == len(held)
    assert [e["target"] for e in _audit_entries(store, "protected_load")] == [PROTECTED_TABLE]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("national_id,sex\n1,female\n1,male\n", "row 3, field 'national_id': id also in row 2"),
        ("national_id,sex\n,female\n", "row 2, field 'national_id': blank id"),
        ("person,sex\n1,female\n", "no id column 'national_id'"),
        ("national_id,Sex Of\n1,female\n", "column 'Sex Of' is not an attribute name"),
        ("national_id,sex\n1,fem\x00ale\n", "row 2, field 'sex': control character"),
        ("national_id,sex\n1,female,extra\n", "row 2: wrong number of fields"),
    ],
)
def test_a_bad_protected_file_is_refused_naming_row_and_field_and_changes_nothing(
    store: Store, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(content, encoding="utf-8")
    seq = store.scalar("SELECT max(seq) FROM audit_log")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_protected(store, path)
    assert store.scalar(f"SELECT count(*) FROM {PROTECTED_TABLE}") == 0
    assert store.scalar("SELECT count(*) FROM protected_loads") == 0
    assert store.scalar("SELECT max(seq) FROM audit_log") == seq


def _tables(sql: str, dialect: str) -> set[str]:
    return {t.name.lower() for t in sqlglot.parse_one(sql, read=dialect).find_all(exp.Table)}


def test_the_feature_catalogue_cannot_reach_protected_attributes(
    store: Store, bureau: tuple[Path, Path, list[dt.date]]
) -> None:
    pit = PointInTime(bureau[2][-1], dt.datetime(2027, 1, 1))
    for dialect, read in (("duckdb", "duckdb"), ("spark", "spark")):
        tables = _tables(features_sql(pit, dialect_name=dialect), read)
        assert tables and not tables & set(PROTECTED_TABLES), tables
    # A catalogue entry that tried to read them is refused before any SQL runs.
    spy = Feature(
        "sex_of_person", "identity", "sex", "none", "attribute",
        expression=lambda c: f"max((SELECT count(*) FROM {PROTECTED_TABLE}))",
        evidence=lambda c: "TRUE",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="reads the protected table 'protected_attributes'"):
        features_sql(pit, features=[*CATALOGUE, spy])
    # And the features are the same, value for value, with the attributes loaded or not.
    before = store.con.sql(features_sql(pit) + " ORDER BY person_id").fetchall()
    load_protected(store, bureau[1] / "protected" / "protected.csv")
    after = store.con.sql(features_sql(pit) + " ORDER BY person_id").fetchall()
    assert before == after and len(before) > 500


def _names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= {t for t in PROTECTED_TABLES if t in node.value}
        # loading is open to the commands; the one reader is not
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "credo.fairness.protected"
            and any(a.name in ("read_protected_columns", "*") for a in node.names)
        ):
            found.add("import")
        if isinstance(node, ast.Import) and any(
            a.name == "credo.fairness.protected" for a in node.names
        ):
            found.add("import")
    return found


def test_only_the_audit_reads_the_protected_table() -> None:
    """The table is named in the migration and the one reader; only the fairness package
    imports the reader (a lazy import inside a function counts)."""
    where = {
        p.relative_to(CREDO).as_posix(): names
        for p in CREDO.rglob("*.py")
        if (names := _names_in(p))
    }
    naming = {p for p, names in where.items() if names - {"import"}}
    importing = {p for p, names in where.items() if "import" in names}
    assert naming == {"store/schema.py", "fairness/protected.py"}, naming
    assert importing and all(p.startswith("fairness/") for p in importing), importing


def test_audit_month_gives_the_rates_of_a_direct_computation_and_audits_the_read(
    store: Store, bureau: tuple[Path, Path, list[dt.date]]
) -> None:
    load_protected(store, bureau[1] / "protected" / "protected.csv")
    truth = _protected_truth(bureau[1])
    last, first = bureau[2][-1], bureau[2][0]
    report = audit_month(store, last, load_products("products"))
    assert [c["score"] for c in report.cuts] == [750.0, 700.0, 650.0]
    scores = dict(
        store.con.execute(
            "SELECT s.person_id, s.score FROM score_snapshots s"
            " JOIN score_runs r USING (run_id) WHERE r.kind = 'monthly' AND r.as_of = ?",
            [last],
        ).fetchall()
    )
    assert report.rows == len(scores) and report.as_of == last.isoformat()
    for attribute in report.attributes:
        values = truth[attribute["name"]]
        for cut in attribute["cuts"]:
            rates = {}
            for group in {values[p] for p in scores}:
                inside = [s for p, s in scores.items() if values[p] == group]
                rates[group] = (len(inside), np.mean([s >= cut["score"] for s in inside]))
            best = max(r for _, r in rates.values())
            got = {g["group"]: g for g in cut["groups"]}
            assert set(got) == set(rates)
            for group, (n, rate) in rates.items():
                assert got[group]["n"] == n
                assert got[group]["approval_rate"] == pytest.approx(rate, abs=1e-12)
                if best == 0:
                    assert got[group]["air"] is None
                else:
                    assert got[group]["air"] == pytest.approx(rate / best, abs=1e-12)
                assert got[group]["tpr"] is None  # the last month's outcomes are not in yet
    reads = _audit_entries(store, "protected_read")
    assert len(reads) == 1 and reads[0]["purpose"] == f"fairness audit of the scores of {last}"
    assert json.loads(str(reads[0]["details"]))["persons"] == len(scores)
    assert report.outcome_window == {"months": 12, "ends": "2027-10-31", "observed": False}
    early = audit_month(store, first, load_products("products"))
    assert early.bad_rows is not None and early.bad_rows > 0 and early.auc is not None
    assert early.outcome_window == {"months": 12, "ends": "2026-10-31", "observed": True}
    assert any(g["tpr"] is not None for g in early.attributes[0]["cuts"][0]["groups"])
    assert len(_audit_entries(store, "protected_read")) == 2
    assert observed_month(store) == first  # the latest month whose outcome year is in
    later = bureau[2][1]
    assert audit_month(store, later, load_products("products")).bad_rows is None


def test_a_read_without_a_purpose_is_refused(store: Store) -> None:
    with pytest.raises(InputError, match="needs a purpose"):
        read_protected_columns(store, "SELECT 'P1' AS person_id, 0 AS pos", purpose=" ")


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_column_reader_reads_what_the_reader_does_in_the_persons_order(
    store: Store, bureau: tuple[Path, Path, list[dt.date]], data: st.DataObject
) -> None:
    """``read_protected_columns`` (decision 0994): for any persons, in any order, repeated or
    unknown, the values ``read_protected`` gives, the same audit entry, and the audit's groups
    (``_labels``) equal, type and all, to the labels built from the reader's dicts."""
    if not store.scalar("SELECT count(*) FROM protected_loads"):
        load_protected(store, bureau[1] / "protected" / "protected.csv")
        hukou = f"SELECT id_hash FROM {PROTECTED_TABLE} WHERE attribute = 'hukou' ORDER BY id_hash"
        blank = store.keys.encrypt("protected:hukou", "", normalize=False)
        store.con.execute(  # blank values and missing ones: one group (MISSING)
            f"UPDATE {PROTECTED_TABLE} SET ciphertext = ? WHERE attribute = 'hukou'"
            f" AND id_hash IN ({hukou} LIMIT 20)",
            [blank],
        )
        store.con.execute(
            f"DELETE FROM {PROTECTED_TABLE} WHERE attribute = 'hukou'"
            f" AND id_hash IN ({hukou} DESC LIMIT 20)"
        )
    known = [p for (p,) in store.con.execute("SELECT DISTINCT person_id FROM event_persons"
                                             " ORDER BY person_id").fetchall()]  # fmt: skip
    persons = data.draw(st.lists(st.sampled_from([*known, "nobody", ""]), max_size=60))
    before = read_protected(store, persons, purpose="test")
    entry = store.scalar("SELECT details FROM audit_log ORDER BY seq DESC LIMIT 1")
    store.con.execute("CREATE OR REPLACE TEMP TABLE wanted (person_id VARCHAR, pos BIGINT)")
    if persons:
        pairs = [(p, k) for k, p in enumerate(persons)]
        store.con.executemany("INSERT INTO wanted VALUES (?, ?)", pairs)
    columns = read_protected_columns(store, "SELECT * FROM wanted", purpose="test")
    assert store.scalar("SELECT details FROM audit_log ORDER BY seq DESC LIMIT 1") == entry
    assert list(columns) == list(before)
    for name, column in columns.items():
        got = [column.values[c] if c >= 0 else None for c in column.codes.tolist()]
        assert got == [before[name].get(p) for p in persons]
        labels = np.array([before[name].get(p) or MISSING for p in persons], dtype=np.str_)
        assert _labels(column).dtype == labels.dtype
        assert _labels(column).tolist() == labels.tolist()


def _gate_outcome(run: Any) -> str:
    """A gate's result as text, bit for bit: its entries (JSON, floats exact), or its refusal."""
    try:
        entries = run()
    except GateError as exc:
        return f"refused: {exc}"
    return json.dumps([vars(e) for e in entries], sort_keys=True)


def _reads(store: Store, after: int) -> list[tuple[Any, ...]]:
    return store.con.execute(
        "SELECT actor, action, target, purpose, details FROM audit_log"
        " WHERE action = 'protected_read' AND seq > ? ORDER BY seq",
        [after],
    ).fetchall()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_gate_gives_what_the_gate_on_the_dict_reader_gave(
    store: Store, bureau: tuple[Path, Path, list[dt.date]], tmp_path: Path, data: st.DataObject
) -> None:
    """The gate reads through ``read_protected_columns`` (decision 0996): for any small
    population (persons of the bureau and unknown ones, in any order, some without a value or
    with a blank one, any scores and cuts, a release or an override already on record or not,
    a reason or none) it refuses, or returns the entries, exactly as the gate on the dict
    reader did (``reference.gate_run``), and its read writes the same audit entry."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    truth = pq.read_table(bureau[1] / "truth" / "persons.parquet").to_pydict()
    nid = dict(zip(truth["person_id"], truth["national_id"], strict=True))
    pool = sorted(nid)[:80]
    store.con.execute(f"DELETE FROM {PROTECTED_TABLE}")
    store.con.execute("DELETE FROM protected_loads")
    names = data.draw(st.lists(st.sampled_from(["sex", "region", "band"]), min_size=1,
                               max_size=3, unique=True))  # fmt: skip
    persons = data.draw(
        st.lists(st.sampled_from([*pool, "nobody"]), min_size=1, max_size=40, unique=True)
    )
    known = [p for p in persons if p != "nobody"]
    held = data.draw(st.lists(st.sampled_from([*known, *pool[:5]]), max_size=40, unique=True))
    if held:
        path = tmp_path / f"protected-{store.scalar('SELECT count(*) FROM audit_log')}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["national_id", *names])
            for person in held:
                values = st.lists(st.sampled_from(["a", "b", "long group name", ""]),
                                  min_size=len(names), max_size=len(names))  # fmt: skip
                writer.writerow([nid[person], *data.draw(values)])
        load_protected(store, path)
    scores = np.array(
        data.draw(st.lists(st.integers(300, 900), min_size=len(persons), max_size=len(persons))),
        dtype=np.float64,
    )
    cuts = data.draw(st.lists(st.integers(300, 900), min_size=1, max_size=3, unique=True))
    shelf = ProductsPolicy.model_validate({
        "kind": "products", "name": "prop", "version": str(store.scalar(
            "SELECT count(*) FROM audit_log")),
        "products": [{"name": "loan", "purpose": "credit_transaction",
                      "rules": [{"min_score": c, "outcome": "approved", "terms": {},
                                 "reason": "ok"} for c in sorted(cuts, reverse=True)],
                      "default": {"outcome": "declined", "terms": {}, "reason": "below"}}],
    })  # fmt: skip
    model_id, policy = "m-prop", "scoring 1"
    for action in data.draw(st.sets(st.sampled_from(["fairness.release", "fairness_override"]))):
        store.audit(AuditEntry("test", action, target=f"model:{model_id}", details={
            "policy": policy, "products": f"{shelf.name} {shelf.version}"}))  # fmt: skip
    why = data.draw(st.sampled_from([None, " ", "board decision 3"]))
    column = pa.table({"person_id": pa.array(persons, pa.string())}).column("person_id")

    seq = int(store.scalar("SELECT max(seq) FROM audit_log"))
    before = _gate_outcome(lambda: reference.gate_run(
        store, END, model_id, policy, persons, scores, why, shelf))  # fmt: skip
    old_reads = _reads(store, seq)
    seq = int(store.scalar("SELECT max(seq) FROM audit_log"))
    after = _gate_outcome(
        lambda: gate_run(store, END, model_id, policy, column, scores, why, shelf)
    )
    assert after == before
    assert _reads(store, seq) == old_reads
    read = json.loads(old_reads[0][-1])["persons"] if old_reads else None
    event(f"{before.count('actor')} entries" if before[0] == "[" else "refused")
    event(f"persons read: {'none' if read is None else min(read, 2)}")


def test_credo_fairness_as_of_loads_audits_and_gates(
    store: Store, bureau: tuple[Path, Path, list[dt.date]], tmp_path: Path
) -> None:
    db = store.path
    store.close()
    path = bureau[1] / "protected" / "protected.csv"
    loaded = run_cli("fairness", "--load-protected", str(path), db=db, check=True)
    assert "protected attributes loaded: 700 persons, sex, ethnicity, hukou, age_band" in (
        loaded.stdout
    )
    last = bureau[2][-1].isoformat()
    done = run_cli("fairness", "--as-of", last, "--out", str(tmp_path / "r"), db=db, check=True)
    assert "3 cut(s)" in done.stdout and "4 attribute(s)" in done.stdout
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["as_of"] == last and report["run_id"] and report["bad_rows"] is None
    page = (tmp_path / "r" / "report.html").read_text()
    assert "on the bureau's scores of" in page and "window ends 2027-10-31" in page
    assert "'--as-of observed' audits the latest month that has them" in done.stdout
    seen = subprocess.run(  # as run_cli, with every import listed (-X importtime)
        [sys.executable, "-X", "importtime", "-m", "credo", "fairness", "--as-of", "observed",
         "--out", str(tmp_path / "o"), "--db", str(db)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert seen.returncode == 0 and "no TPR" not in seen.stdout, seen.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in seen.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "credo.fairness.bureau" in imported  # the listing is read right
    # the audit of a month needs none of them (seconds of import: issue 18's 10 s target)
    assert not imported & {"sklearn", "scipy", "pandas", "fairlearn", "matplotlib", "pyspark"}
    early = json.loads((tmp_path / "o" / "report.json").read_text())
    assert early["as_of"] == bureau[2][0].isoformat() and early["bad_rows"] > 0
    assert early["outcome_window"]["observed"] and 0.5 < early["auc"] <= 1
    groups = [g for a in early["attributes"] for c in a["cuts"] for g in c["groups"]]
    assert all(g["tpr"] is not None for g in groups if g["goods"])
    profiles = [p for a in early["attributes"] for p in a["groups"]]
    assert any(p["auc"] is not None for p in profiles) and all(p["calibration"] for p in profiles)
    missing = run_cli("fairness", "--as-of", "2020-01-31", "--out", str(tmp_path / "x"), db=db)
    assert missing.returncode == 4 and "no monthly scoring run at 2020-01-31" in missing.stderr
    assert not (tmp_path / "x").exists()


def _ranked_groups(
    store: Store, population: Path, as_of: dt.date, folder: Path, split: bool
) -> tuple[Path, ProductsPolicy]:
    """A protected file whose ``grp`` is "low" for the lower-scoring half at ``as_of``
    (``split``: none of them reach the product's cut, the median, so a ratio of 0) or
    alternates down the ranking (ratios near 1); and the products file with that cut."""
    import pyarrow.parquet as pq

    truth = pq.read_table(population / "truth" / "persons.parquet").to_pydict()
    nid = dict(zip(truth["person_id"], truth["national_id"], strict=True))
    ranked = store.con.execute(
        "SELECT person_id, score FROM score_snapshots WHERE run_id = (SELECT run_id FROM"
        " score_runs WHERE kind = 'monthly' AND as_of = ? ORDER BY seq DESC LIMIT 1)"
        " ORDER BY score, person_id",
        [as_of],
    ).fetchall()
    median = ranked[len(ranked) // 2][1]
    assert 0 < sum(s < median for _, s in ranked) < len(ranked)
    path = folder / ("split.csv" if split else "fair.csv")
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["national_id", "grp"])
        for i, (p, s) in enumerate(ranked):
            low = s < median if split else i % 2 == 0
            writer.writerow([nid[p], "low" if low else "high"])
    shelf = folder / "products.yaml"
    shelf.write_text(
        "kind: products\nname: test-shelf\nversion: '1'\nproducts:\n"
        "  - {name: loan, purpose: credit_transaction, rules: [{min_score: "
        f"{median:g}, outcome: approved, terms: {{}}, reason: ok}}],"
        " default: {outcome: declined, terms: {}, reason: below}}\n",
        encoding="utf-8",
    )
    return path, load_products(shelf)


def test_the_gate_refuses_a_flagged_monthly_run_unless_overridden_on_the_record(
    store: Store, bureau: tuple[Path, Path, list[dt.date]], tmp_path: Path
) -> None:
    from credo.fairness.gate import GateError
    from credo.scoring.monthly import score

    last = bureau[2][-1]
    runs = store.scalar("SELECT count(*) FROM score_runs")
    path, shelf = _ranked_groups(store, bureau[1], last, tmp_path, True)
    load_protected(store, path)
    with pytest.raises(GateError, match=r"adverse impact ratio\(s\) under 0.8 .*grp = low"):
        score(store, last, products=shelf)
    assert store.scalar("SELECT count(*) FROM score_runs") == runs  # nothing put in use
    assert not _audit_entries(store, "fairness_override")

    run = score(
        store, last, override_why="board decision 12: accepted while retraining", products=shelf
    )
    overrides = _audit_entries(store, "fairness_override")
    assert len(overrides) == 1 and overrides[0]["purpose"].startswith("board decision 12")
    assert overrides[0]["actor"] == store.settings.actor and overrides[0]["logged_at"]
    details = json.loads(str(overrides[0]["details"]))
    assert details["flags"] and all(
        f["group"] == "low" and f["air"] < 0.8 for f in details["flags"]
    )
    written = _audit_entries(store, "score_monthly")[-1]
    assert written["seq"] == overrides[0]["seq"] + 1  # one transaction: override, then the run
    assert store.scalar("SELECT persons FROM score_runs WHERE run_id = ?", [run.run_id]) > 500
    score(store, last, products=shelf)  # the model and policy are cleared now
    assert len(_audit_entries(store, "fairness_override")) == 1


def test_the_gate_lets_a_fair_run_through_and_the_cli_refuses_a_flagged_one(
    store: Store, bureau: tuple[Path, Path, list[dt.date]], tmp_path: Path
) -> None:
    from credo.scoring.monthly import score

    last = bureau[2][-1]
    path, shelf = _ranked_groups(store, bureau[1], last, tmp_path, False)
    load_protected(store, path)
    score(store, last, products=shelf)
    assert not _audit_entries(store, "fairness_override")
    gate_read, search_read = _audit_entries(store, "protected_read")[-2:]  # a release: both
    assert str(gate_read["purpose"]).startswith("fairness gate")
    assert str(search_read["purpose"]).startswith("search for less discriminatory")
    path, _ = _ranked_groups(store, bureau[1], last, tmp_path, True)
    load_protected(store, path)
    db = store.path
    runs = store.scalar("SELECT count(*) FROM score_runs")
    store.close()
    products = str(tmp_path / "products.yaml")
    refused = run_cli("score", "--as-of", last.isoformat(), "--products", products, db=db)
    assert refused.returncode == 9 and "not cleared for use" in refused.stderr
    with Store.open(Settings(db=db)) as again:
        assert again.scalar("SELECT count(*) FROM score_runs") == runs


def test_R_ECOA_6_each_model_release_keeps_its_fairness_report(
    store: Store, bureau: tuple[Path, Path, list[dt.date]], tmp_path: Path
) -> None:
    """The first run of a model under a scoring policy and products file, with protected
    attributes held, records the release's fairness audit in the same transaction as the run;
    later months under the same release are gated but not reported again."""
    from credo.fairness.bureau import release_reports
    from credo.scoring.monthly import score

    last = bureau[2][-1]
    path, shelf = _ranked_groups(store, bureau[1], last, tmp_path, False)
    load_protected(store, path)
    run = score(store, last, products=shelf)
    model_id = str(store.scalar("SELECT model_id FROM score_runs WHERE run_id = ?", [run.run_id]))
    (report,) = release_reports(store, model_id)
    assert report["as_of"] == last.isoformat() and report["flags"] == []
    assert report["products"] == f"{shelf.name} {shelf.version}"
    assert report["rows"] == store.scalar(
        "SELECT count(*) FROM score_snapshots WHERE run_id = ?", [run.run_id]
    )
    cuts = [c["label"] for c in report["cuts"]]
    assert sorted({(a["cut"], a["group"]) for a in report["air"]}) == sorted(
        (c, g) for c in cuts for g in ("high", "low")
    )
    assert all(a["air"] >= report["air_threshold"] for a in report["air"] if a["air"] is not None)
    written = _audit_entries(store, "score_monthly")[-1]
    assert written["seq"] == report["seq"] + 1  # committed with the run it reports on

    # The search for less discriminatory alternatives, on the latest month whose outcomes are
    # observed: the card refit without each feature, and the greedy search within the budget.
    found = report["alternatives"]
    assert found["searched"] is True and found["month"] == bureau[2][0].isoformat()
    document = store.scalar("SELECT document FROM models WHERE model_id = ?", [model_id])
    features = ScorecardModel.from_json(str(document), source="test").features
    assert found["features"] == list(features) and len(features) > 1
    assert 0 < found["rows"] <= min(found["of_rows"], ALTERNATIVES_SAMPLE)
    assert sorted(v["dropped"][0] for v in found["drop_one"]) == sorted(found["features"])
    # each product cut compared at the share it approves in the release month (about half)
    assert list(found["product_cuts"]) == cuts
    assert all(0.4 < float(label.split()[1]) < 0.6 for label in found["product_cuts"].values())
    variants = [found["baseline"], *found["drop_one"], *found["alternatives"]]
    assert all(len(v["worst_air"]) == len(cuts) and 0.5 < v["auc"] <= 1 for v in variants)
    assert all(0 < a <= 1 for a in found["baseline"]["worst_air"])  # measured, not left empty

    def lowest(v: dict[str, Any]) -> float:
        return min((a for a in v["worst_air"] if a is not None), default=0.0)

    floor, last_lowest = found["baseline"]["auc"] - found["max_auc_loss"], lowest(found["baseline"])
    for alternative in found["alternatives"]:  # each step keeps the AUC and lifts the ratio
        assert alternative["auc"] >= floor and lowest(alternative) > last_lowest
        last_lowest = lowest(alternative)
    assert found["found"] == bool(found["alternatives"])
    (read,) = [e for e in _audit_entries(store, "protected_read")
               if "less discriminatory" in str(e["purpose"])]  # fmt: skip
    assert int(read["seq"]) < int(report["seq"])  # the search's read of the attributes, audited

    score(store, last, products=shelf)  # the same release, another run: no second report
    assert len(release_reports(store, model_id)) == 1
