"""A load killed with SIGKILL leaves the database as it was; rerunning gives exact counts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from ingest_files import PAYMENTS_MAPPING, write_mapping
from support import cli_json

ROWS = 400_000


def _big_file(path: Path) -> Path:
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'K' || i AS txn, strftime(DATE '2025-01-01' + (i % 400)::INT,
        '%d/%m/%Y') || ' 10:00' AS "when", (i % 99999)::VARCHAR AS fen,
        ['G', 'D'][(i % 2) + 1] AS cat, '139' || lpad((i % 50000)::VARCHAR, 8, '0') AS mobile,
        '王' || (i % 100) AS name, '' AS note FROM range({ROWS}) t(i))
        TO '{path}' (HEADER)"""
    )
    con.close()
    return path


def _start(db: Path, data: Path, mapping: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "credo",
            "ingest",
            str(data),
            "--source",
            "shop",
            "--mapping",
            str(mapping),
            "--json",
        ],
        env={**os.environ, "CREDO_DB": str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_sigkill_mid_load_then_rerun(tmp_path: Path) -> None:
    data = _big_file(tmp_path / "big.csv")
    mapping = write_mapping(tmp_path / "shop.yaml", PAYMENTS_MAPPING)
    small = tmp_path / "small.csv"
    small.write_text(
        "txn,when,fen,cat,mobile,name,note\nS1,01/01/2026 10:00,5,G,1,x,\n", encoding="utf-8"
    )
    db = tmp_path / "credo.duckdb"
    cli_json("ingest", str(small), "--source", "shop", "--mapping", str(mapping), db=db)

    # How long a whole load takes here, on a scratch copy, to aim the kills inside it.
    scratch = tmp_path / "scratch.duckdb"
    started = time.perf_counter()
    assert _start(scratch, data, mapping).wait(timeout=300) == 0
    whole = time.perf_counter() - started

    killed = 0
    for fraction in (0.3, 0.55, 0.75, 0.9, 0.97):
        proc = _start(db, data, mapping)
        time.sleep(whole * fraction)
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        status = cli_json("status", db=db)
        audit = cli_json("audit", "verify", db=db)
        assert audit["ok"], audit
        events = status["events"]
        # All or nothing: either the kill came first, or the whole file committed.
        assert events in (1, 1 + ROWS), events
        if code == -signal.SIGKILL and events == 1:
            killed += 1
        if events == 1 + ROWS:
            break
    assert killed >= 1, "no kill landed inside a load; the file is too small for this machine"

    report = cli_json("ingest", str(data), "--source", "shop", "--mapping", str(mapping), db=db)
    assert report[0]["rows_read"] == ROWS
    status = cli_json("status", db=db)
    assert status["events"] == 1 + ROWS
    assert status["sources"][0]["loads"] == 2
    again = cli_json("ingest", str(data), "--source", "shop", "--mapping", str(mapping), db=db)
    assert again[0]["rows_new"] == 0 and again[0]["already_loaded_as"] == 2
    assert cli_json("status", db=db)["events"] == 1 + ROWS
    assert cli_json("audit", "verify", db=db)["entries_verified"] == 2


def _wait_for(proc: subprocess.Popen[bytes], scratch: Path, moment: str) -> None:
    """Until the load reaches ``moment``: "copy" (transcoding: its copy has bytes) or "staged"
    (its copy's folder has come and gone: DuckDB holds the rows and validates or stores them;
    a signal while the folder is being removed could leave it, a window of microseconds)."""
    seen = False
    while proc.poll() is None:
        folders = list(scratch.glob("credo-ingest-*"))
        sizes = []
        for copy in (c for f in folders for c in f.glob("*")):
            with contextlib.suppress(FileNotFoundError):  # removed since it was listed
                sizes.append(copy.stat().st_size)
        if moment == "copy" and any(sizes):
            return
        seen = seen or bool(sizes)
        if moment == "staged" and seen and not folders:
            return
        time.sleep(0.005)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["copy", "staged"])
def test_sigterm_stops_a_load_promptly_and_leaves_no_copy(tmp_path: Path, moment: str) -> None:
    """A load of a GB18030 file, started as a script's background job (SIGINT ignored), is
    stopped by SIGTERM within seconds wherever it is (decision 0989): nothing stored, its
    transcoded copy removed."""
    data = tmp_path / "big.csv"
    data.write_bytes(_big_file(tmp_path / "utf8.csv").read_text("utf-8").encode("gb18030"))
    mapping = write_mapping(tmp_path / "shop.yaml", {**PAYMENTS_MAPPING, "encoding": "gb18030"})
    db, scratch = tmp_path / "credo.duckdb", tmp_path / "tmp"
    scratch.mkdir()
    small = tmp_path / "small.csv"
    small.write_text(
        "txn,when,fen,cat,mobile,name,note\nS1,01/01/2026 10:00,5,G,1,x,\n", encoding="utf-8"
    )
    cli_json("ingest", str(small), "--source", "shop", "--mapping", str(mapping), db=db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "credo", "ingest", str(data), "--source", "shop",
         "--mapping", str(mapping), "--json"],
        env={**os.environ, "CREDO_DB": str(db), "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    _wait_for(proc, scratch, moment)
    assert proc.poll() is None, "the load ended before the signal; the file is too small"
    sent = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert time.perf_counter() - sent < 10
    assert proc.returncode == 130, stderr  # as for Ctrl-C
    assert list(scratch.iterdir()) == []
    assert cli_json("status", db=db)["events"] == 1
    assert cli_json("audit", "verify", db=db)["ok"]
