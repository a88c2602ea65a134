"""The lake, and a Spark run brought back into the store through the audited write path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import run_cli, snapshot

from credo.errors import ConfigError, ConflictError, InputError, IntegrityError, NotFoundError
from credo.scoring.latest import latest_snapshot
from credo.settings import Settings
from credo.spark.lake import MANIFEST, Lake, export_lake, snapshot_parts, snapshots_digest
from credo.spark.runs import import_run
from credo.store.audit import verify
from credo.store.db import Store

from .conftest import END, PANDAS_WARNING, Scored, copy_db

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(PANDAS_WARNING)]


def _store(both: Scored, tmp_path: Path) -> Store:
    return Store.open(Settings(db=copy_db(both.db, tmp_path)))


def test_the_manifest_lists_every_file_with_its_digest(both: Scored) -> None:
    manifest = both.lake.manifest
    files = {
        p.relative_to(both.lake.root).as_posix()
        for p in both.lake.root.rglob("*")
        if p.is_file() and p.name != MANIFEST and "runs" not in p.parts
    }
    assert set(manifest.files) == files
    assert any(f.startswith("events/payment/month=2026-10/") for f in files)
    both.lake.verify()


def test_a_changed_lake_file_is_found(both: Scored, tmp_path: Path) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(both.lake.root, copy)
    with (copy / "persons" / "data.parquet").open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(IntegrityError, match=r"persons/data\.parquet"):
        Lake.open(copy).verify()


def test_export_refuses_a_folder_in_use(both: Scored, tmp_path: Path) -> None:
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "notes.txt").write_text("mine")
    with _store(both, tmp_path) as store, pytest.raises(ConfigError, match="not empty"):
        export_lake(store, tmp_path / "lake")


def test_a_manifest_of_another_version_is_refused(both: Scored, tmp_path: Path) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(both.lake.root, copy)
    data = json.loads((copy / MANIFEST).read_text())
    data["lake_version"] = 99
    (copy / MANIFEST).write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="lake_version 99"):
        Lake.open(copy)


def test_an_imported_run_is_a_run_like_any(both: Scored, tmp_path: Path) -> None:
    with _store(both, tmp_path) as store:
        run = import_run(store, both.lake, both.spark_folder)
        assert run.persons == both.duckdb.num_rows and run.as_of == END
        stored = store.con.sql(
            "SELECT * FROM score_snapshots WHERE run_id = $r ORDER BY person_id",
            params={"r": run.run_id},
        ).to_arrow_table()
        expected = both.duckdb.set_column(
            0, "run_id", pa.repeat(pa.scalar(run.run_id), both.duckdb.num_rows)
        )
        assert stored.to_pylist() == expected.to_pylist()
        assert verify(store.con).broken_at is None
        person = str(expected.column("person_id")[0])
        latest = latest_snapshot(store, person)
        assert latest is not None and latest.run_id == run.run_id
        before = snapshot(store)
        with pytest.raises(ConflictError, match="already in the store"):
            import_run(store, both.lake, both.spark_folder)
        assert snapshot(store) == before


def _broken_run(both: Scored, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(both.spark_folder, folder)
    return folder


def test_a_changed_run_file_changes_nothing(both: Scored, tmp_path: Path) -> None:
    folder = _broken_run(both, tmp_path)
    part = snapshot_parts(folder / "snapshots")[-1]
    table = pq.read_table(part)
    scores = table.column("score").to_pylist()
    pq.write_table(table.set_column(3, "score", pa.array([s + 1 for s in scores])), part)
    with _store(both, tmp_path) as store:
        before = snapshot(store)
        with pytest.raises(IntegrityError, match=r"snapshots: changed"):
            import_run(store, both.lake, folder)
        assert snapshot(store) == before


def test_a_run_missing_a_part_file_changes_nothing(both: Scored, tmp_path: Path) -> None:
    """A part lost on the way (each holds other persons) is caught by the run's digest."""
    folder = _broken_run(both, tmp_path)
    snapshot_parts(folder / "snapshots")[0].unlink()
    with _store(both, tmp_path) as store:
        before = snapshot(store)
        with pytest.raises(IntegrityError, match=r"snapshots: changed"):
            import_run(store, both.lake, folder)
        assert snapshot(store) == before


def test_a_run_of_an_unknown_person_names_the_file_and_row(both: Scored, tmp_path: Path) -> None:
    folder = _broken_run(both, tmp_path)
    part = snapshot_parts(folder / "snapshots")[1]
    table = pq.read_table(part)
    ids = table.column("person_id").to_pylist()
    ids[2] = "P-nobody"
    pq.write_table(table.set_column(1, "person_id", pa.array(ids)), part)
    meta = json.loads((folder / "run.json").read_text())
    meta["snapshots"] = snapshots_digest(folder / "snapshots")
    (folder / "run.json").write_text(json.dumps(meta))
    with _store(both, tmp_path) as store:
        before = snapshot(store)
        match = rf"{part.name}, row 3, field person_id: 'P-nobody'"
        with pytest.raises(InputError, match=match):
            import_run(store, both.lake, folder)
        assert snapshot(store) == before


def test_a_run_needs_its_model_in_the_store(both: Scored, tmp_path: Path) -> None:
    folder = _broken_run(both, tmp_path)
    meta = json.loads((folder / "run.json").read_text())
    meta["model_id"] = "sha256:0000000000000000"
    (folder / "run.json").write_text(json.dumps(meta))
    with _store(both, tmp_path) as store, pytest.raises(NotFoundError, match="model"):
        import_run(store, both.lake, folder)


def test_export_and_import_through_the_cli(both: Scored, tmp_path: Path) -> None:
    db = copy_db(both.db, tmp_path)
    lake = tmp_path / "lake"
    run_cli("export", "--lake", str(lake), db=db, check=True)
    assert Lake.open(lake).manifest.model_id == both.lake.manifest.model_id
    with Store.open(Settings(db=db)) as store:
        action = store.scalar("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1")
        assert action == "export_lake"
    shutil.copytree(both.lake.root / "runs", lake / "runs")
    refused = run_cli("import", "--lake", str(lake), db=db)
    assert refused.returncode == 7 and "another lake manifest" in refused.stderr
    wrong = run_cli("score", "--as-of", str(END), "--engine", "spark", db=db)
    assert wrong.returncode == 2 and "--lake" in wrong.stderr
