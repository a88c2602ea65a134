"""The CLI as a user meets it: real processes, exit codes, JSON, and docs that cannot drift."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from ingest_files import GOOD_ROWS, HEADER, PAYMENTS_MAPPING, write, write_mapping
from support import cli_json, run_cli

from credo.cli import app
from credo.settings import Settings

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def _commands(typer_app: typer.Typer = app, prefix: str = "") -> list[str]:
    """Every command, groups within groups too (``partners keys create``)."""
    names = [
        prefix + (c.name or c.callback.__name__.replace("_", "-"))
        for c in typer_app.registered_commands
        if c.callback
    ]
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        names += _commands(group.typer_instance, f"{prefix}{group.name} ")
    return sorted(names)


def test_every_command_has_help_and_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## `credo ([a-z -]+)`", text, flags=re.M))
    assert set(_commands()) == documented
    for name in _commands():
        proc = run_cli(*name.split(), "--help")
        assert proc.returncode == 0 and "Usage" in proc.stdout, name


def test_every_setting_is_documented() -> None:
    from credo.api.settings import ApiSettings

    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    core, service = text.split("## The service", 1)
    assert set(re.findall(r"^\| `([a-z_]+)` \|", core, flags=re.M)) == set(Settings.model_fields)
    assert set(re.findall(r"^\| `([a-z_]+)` \|", service, flags=re.M)) == set(
        ApiSettings.model_fields
    )
    for registry in (Settings, ApiSettings):
        assert all(f.description for f in registry.model_fields.values())


def _ingest_with_a_bad_row(tmp_path: Path) -> list[str]:
    """``credo ingest`` of three good payments and one with a negative amount (row 4)."""
    mapping = write_mapping(tmp_path / "m.yaml", PAYMENTS_MAPPING)
    data = write(
        tmp_path / "p.csv", HEADER + "".join(GOOD_ROWS) + "B1,01/03/2026 10:00,-1,G,1,x,\n"
    )
    return ["ingest", str(data), "--source", "shop", "--mapping", str(mapping)]


def test_ingest_status_quarantine_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    base = _ingest_with_a_bad_row(tmp_path)

    refused = run_cli(*base, db=db)
    assert refused.returncode == 3
    assert refused.stderr.startswith("error: ") and "row 4, field amount" in refused.stderr
    assert "hint: " in refused.stderr and "Traceback" not in refused.stderr

    loaded = cli_json(*base, "--max-reject-rate", "0.5", db=db)
    assert (loaded[0]["rows_new"], loaded[0]["rows_rejected"]) == (3, 1)
    human = run_cli(*base, db=db)
    assert human.returncode == 0 and "already loaded as load 1" in human.stdout

    status = cli_json("status", db=db)
    assert status["events"] == 3 and status["events_by_type"] == {"payment": 3}
    assert status["quarantined_rows"] == 1
    rows = cli_json("quarantine", db=db)
    assert rows["total"] == 1
    assert rows["rows"][0] | {"file": "p.csv"} == {
        "load": 1,
        "source": "shop",
        "file": "p.csv",
        "row": 4,
        "field": "amount",
        "reason": "must be at least 0 (negative)",
        "value": "-1",
    }
    assert cli_json("audit", "verify", db=db)["entries_verified"] == 1


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["status"], 6, "does not exist"),
        (["ingest", "nofile.csv", "--source", "shop"], 4, "no such file"),
        (["ingest", "x.csv"], 2, "--source"),
        (["frobnicate"], 2, "No such command"),
    ],
)
def test_errors_have_documented_exit_codes(
    tmp_path: Path, args: list[str], code: int, needle: str
) -> None:
    if args[0] == "ingest":
        run_cli("init", db=tmp_path / "c.duckdb", check=True)
    proc = run_cli(*args, db=tmp_path / "c.duckdb")
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr + proc.stdout


def test_a_mapping_typo_names_the_file_and_key(tmp_path: Path) -> None:
    bad = {
        **PAYMENTS_MAPPING,
        "fields": {**PAYMENTS_MAPPING["fields"], "ammount": {"column": "fen"}},
    }  # type: ignore[dict-item]
    mapping = write_mapping(tmp_path / "typo.yaml", bad)
    data = write(tmp_path / "p.csv", HEADER + GOOD_ROWS[0])
    proc = run_cli(
        "ingest", str(data), "--source", "shop", "--mapping", str(mapping), db=tmp_path / "c.duckdb"
    )
    assert proc.returncode == 2
    assert "typo.yaml" in proc.stderr and "ammount" in proc.stderr
    assert "did you mean 'amount'" in proc.stderr


def test_audit_verify_exits_7_on_a_hand_edited_log(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "c.duckdb"
    mapping = write_mapping(tmp_path / "m.yaml", PAYMENTS_MAPPING)
    for i, row in enumerate(GOOD_ROWS):
        data = write(tmp_path / f"p{i}.csv", HEADER + row)
        run_cli(
            "ingest", str(data), "--source", "shop", "--mapping", str(mapping), db=db, check=True
        )
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE audit_log SET details = replace(details, '\"new\":1', '\"new\":0') WHERE seq = 2"
    )
    con.close()
    proc = run_cli("audit", "verify", db=db)
    assert proc.returncode == 7
    assert "broken at entry 2" in proc.stderr and "edited" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score"], "error: Missing option '--as-of'."),
        (["explain", "P1", "--as-of"], "error: Option '--as-of' requires an argument."),
        (["explain", "P1", "--as-of", "31/10/2026"], "error: Invalid value for --as-of"),
        (["frobnicate"], "error: No such command 'frobnicate'."),
    ],
)
def test_usage_errors_are_the_documented_error_and_hint_lines(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = run_cli(*args, db=tmp_path / "c.duckdb")
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and lines[0].startswith(message), proc.stderr
    assert lines[1].startswith("  hint: see '") and lines[1].endswith("--help'")
    assert not any(c in proc.stderr for c in "╭│╰"), "no box drawn around the error"


def test_partners_and_status_on_a_new_database(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    run_cli("init", db=db, check=True)
    made = cli_json("partners", "add", "evcard", "EVCARD car rental", db=db)
    assert made["partner_id"] == "evcard" and len(made["webhook_secret"]) == 64
    key = run_cli("partners", "keys", "create", "evcard", "--scope", "decisions", "-q", db=db)
    assert re.fullmatch(r"credo_[0-9a-f]{12}_\S+\n", key.stdout), key.stdout
    key_id = key.stdout.split("_")[1]
    listed = cli_json("partners", "list", db=db)
    assert [(k["key_id"], k["scopes"]) for k in listed[0]["keys"]] == [(key_id, ["decisions"])]
    assert run_cli("partners", "keys", "revoke", key_id, db=db).returncode == 0
    assert cli_json("partners", "list", db=db)[0]["keys"][0]["revoked_at"] is not None
    again = run_cli("partners", "add", "evcard", "Again", db=db)
    assert again.returncode == 5 and "partner 'evcard' exists" in again.stderr
    bad = run_cli("partners", "keys", "create", "nobody", db=db)
    assert bad.returncode == 4 and "no partner 'nobody'" in bad.stderr
    text = run_cli("status", db=db, check=True).stdout
    assert "Score runs: none yet" in text and "Models: 0." in text and "Disputes: none." in text
    unknown = run_cli("explain", "NOBODY", db=db)
    assert unknown.returncode == 4 and "error: no person 'NOBODY'" in unknown.stderr
    assert "credo score" not in unknown.stderr


def test_a_rerun_reports_the_rows_its_first_load_rejected(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    base = _ingest_with_a_bad_row(tmp_path)
    (first,) = cli_json(*base, "--max-reject-rate", "0.5", db=db)
    (again,) = cli_json(*base, db=db)
    assert again["already_loaded_as"] == first["load_id"]
    counts = ("rows_read", "rows_accepted", "rows_new", "rows_duplicate", "rows_rejected")
    assert [again[k] for k in counts] == [4, 3, 0, 3, 1]
    assert again["rows_read"] == again["rows_accepted"] + again["rows_rejected"]
    assert cli_json("status", db=db)["quarantined_rows"] == again["rows_rejected"]


def test_tables_written_to_a_file_are_not_cut(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    run_cli("init", db=db, check=True)
    name = "A partner whose name is longer than any eighty-column terminal would show on one line"
    run_cli("partners", "add", "long_name", name, db=db, check=True)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"CREDO_DB": str(db)}
    listed = subprocess.run(
        [sys.executable, "-m", "credo", "partners", "list"], capture_output=True, text=True,
        env=env, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0 and name in listed.stdout, listed.stdout
