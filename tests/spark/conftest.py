"""Spark in local mode, started once for the suite, and a small population scored on DuckDB,
exported as a lake and scored again on Spark (the ``spark`` marker; ``make test`` installs
pyspark and a Java runtime)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from scoring.conftest import add_events
from scoring.truth import link_from_truth

from credo.features import PointInTime
from credo.ingest.batch import ingest_population
from credo.rights.erasure import restrict
from credo.scoring import score, train_model
from credo.scoring.policy_rules import resolve_policy
from credo.scoring.query import scored_features
from credo.scoring.registry import load_model
from credo.scoring.runs import latest_known_at, previous_run
from credo.scoring.snapshots import compute_snapshots
from credo.settings import Settings
from credo.sim import generate
from credo.spark.lake import Lake, export_lake
from credo.store.audit import AuditEntry
from credo.store.db import Store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

END = dt.date(2026, 10, 31)
PREVIOUS = dt.date(2026, 9, 30)
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"
LATER = dt.datetime(2026, 11, 15)


def _first(store: Store, event_type: str, condition: str = "TRUE") -> tuple[str, str]:
    row = store.con.execute(
        f"SELECT source, source_record_id FROM events WHERE event_type = '{event_type}'"
        f" AND {condition} ORDER BY event_id LIMIT 1"
    ).fetchall()[0]
    return str(row[0]), str(row[1])


def _correction(target: tuple[str, str], action: str, amendment: str | None) -> dict[str, object]:
    return {
        "event_type": "correction",
        "occurred_at": dt.datetime(2026, 10, 5),
        "target_source": target[0],
        "target_record_id": target[1],
        "correction_action": action,
        "amendment": amendment,
        "reason": "test",
    }


def _edge_cases(store: Store) -> None:
    """What the generator does not make: a thin file, and corrections (the JSON amendments
    are read by each engine's own JSON function)."""
    with store.write(AuditEntry("test", "new_person")) as con:
        con.execute("INSERT INTO persons VALUES ('NEW1', ?, 'active')", [LATER])
    new = {"person_id": "NEW1", "occurred_at": dt.datetime(2026, 10, 1)}
    payment = _first(store, "payment", "occurred_at > TIMESTAMP '2026-01-01'")
    first = store.scalar(
        "SELECT event_id FROM events WHERE source = ? AND source_record_id = ?", list(payment)
    )
    bill = _first(store, "bill", "paid_date IS NULL AND due_date < DATE '2026-09-01'")
    add_events(
        store,
        [
            new | {"event_type": "consent", "consent_action": "enrol"},
            new | {"event_type": "payment", "amount": 12, "merchant_category": "grocery"},
            # categories off the ingest list: counted apart from the list's bits (decision 0980)
            new | {"event_type": "payment", "amount": 5, "merchant_category": "gaming"},
            new | {"event_type": "payment", "amount": 7, "merchant_category": "gaming"},
            _correction(payment, "amend", '{"amount": "1234.56", "merchant_category": "luxury"}'),
            _correction(
                _first(store, "payment", f"occurred_at > '2026-02-01' AND event_id > {first}"),
                "amend",
                '{"merchant_category": "pet_care"}',
            ),
            _correction(bill, "amend", '{"paid_date": "2026-09-15"}'),
            _correction(_first(store, "loan"), "retract", None),
        ],
        LATER,
    )
    # A person scored last month restricts processing: both engines hold them (decision 0647).
    held = store.scalar("SELECT min(person_id) FROM score_snapshots")
    restrict(store, str(held), now=LATER)


def as_number(value: Any) -> Any:
    """Decimals and integers as the float the scoring reads (``as_floats``), text as is."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from credo.spark.session import spark_session

    session = spark_session("local[2]", app="credo-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def scored_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 persons over 24 months, a model trained a year back, and a monthly run a month
    before END (so the Spark run has a previous run: trend and the contacts' scores)."""
    root = tmp_path_factory.mktemp("spark-population")
    generate(400, 24, 5, root / "pop", END)
    db = root / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, root / "pop", max_reject_rate=0.01)
        link_from_truth(store, root / "pop")
        train_model(store, dt.date(2025, 10, 31))
        score(store, PREVIOUS)
        _edge_cases(store)
    return db


def copy_db(template: Path, folder: Path) -> Path:
    db = folder / "credo.duckdb"
    shutil.copy(template, db)
    shutil.copy(template.with_suffix(".key"), db.with_suffix(".key"))
    return db


@dataclass(frozen=True)
class Scored:
    """The same run on both engines: DuckDB's rows and features (not written), and the
    folder of Spark's run."""

    db: Path
    lake: Lake
    duckdb: pa.Table
    duckdb_features: pa.Table
    spark_folder: Path


@pytest.fixture(scope="session")
def both(scored_db: Path, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Scored:
    from credo.spark.monthly import run_monthly

    folder = tmp_path_factory.mktemp("spark-lake")
    with Store.open(Settings(db=scored_db)) as store:
        export_lake(store, folder / "lake")
        loaded, model = resolve_policy(None), load_model(store)
        pit = PointInTime(END, latest_known_at(store), 7)
        previous = previous_run(store, END, loaded.name)
        duck = compute_snapshots(store, pit, model, loaded, previous=previous)
        features = scored_features(store, pit, model, previous=previous)
    lake = Lake.open(folder / "lake")
    run = run_monthly(spark, lake, END)
    return Scored(scored_db, lake, duck, features, run.folder)


@pytest.fixture(scope="session")
def spark_features(both: Scored, spark: SparkSession) -> pa.Table:
    """The per-person rows Spark computed for the run (features and compiled points),
    collected apart: the run itself never brings them to the driver (decision 0813)."""
    from credo.spark.monthly import scored_rows

    return scored_rows(spark, both.lake, END)
