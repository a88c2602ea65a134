"""Both engines hold a restricted person (RULES R-GDPR-5; decision 0647): the restriction
travels in the lake and the shared feature SQL leaves the person out of Spark's run as out of
DuckDB's; a person restricted after the export is left out when the run is imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from credo.rights.erasure import restrict
from credo.settings import Settings
from credo.spark.lake import read_snapshots
from credo.store.db import Store

from .conftest import PANDAS_WARNING, Scored, copy_db

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]


def test_R_GDPR_5_a_spark_run_holds_a_restricted_person_as_duckdb_does(both: Scored) -> None:
    with Store.open(Settings(db=both.db)) as store:
        held = store.scalar("SELECT person_id FROM restrictions WHERE action = 'restrict'")
        earlier = store.scalar("SELECT count(*) FROM score_snapshots WHERE person_id = ?", [held])
    assert earlier == 1  # scored last month, before the restriction
    spark_persons = set(read_snapshots(both.spark_folder / "snapshots")["person_id"].to_pylist())
    duck_persons = set(both.duckdb["person_id"].to_pylist())
    assert held not in spark_persons and held not in duck_persons
    assert len(spark_persons) == len(duck_persons) > 300


def test_R_GDPR_5_a_person_restricted_after_the_export_is_not_imported(
    both: Scored, tmp_path: Path
) -> None:
    from credo.spark.runs import import_run

    with Store.open(Settings(db=copy_db(both.db, tmp_path))) as store:
        later = str(both.duckdb["person_id"][0])
        restrict(store, later)
        run = import_run(store, both.lake, both.spark_folder)
        found = store.con.execute(
            "SELECT person_id FROM score_snapshots WHERE run_id = ?", [run.run_id]
        ).fetchall()
    imported = {p for (p,) in found}
    assert later not in imported and len(imported) == both.duckdb.num_rows - 1
