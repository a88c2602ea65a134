"""Gzipped source files (issue 21): a ``.gz`` load is the plain file's load, a damaged one is
refused whole (docs/decisions/0123)."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_files import GOOD_ROWS, HEADER, payments_mapping, write

from credo.errors import ConfigError, InputError
from credo.ingest.batch import ingest_population
from credo.ingest.loader import ingest
from credo.settings import Settings
from credo.sim import GenerationSummary, generate
from credo.store.db import Store

#: What differs between two loads of one content by construction: which load, and when.
_LOAD_COLUMNS = ("event_id", "load_id", "recorded_at")


def gz(path: Path, *, level: int = 6) -> Path:
    """``path`` gzipped beside it as ``path.gz``."""
    out = path.with_name(path.name + ".gz")
    out.write_bytes(gzip.compress(path.read_bytes(), level, mtime=0))
    return out


def events(store: Store, source: str | None = None) -> list[tuple[Any, ...]]:
    """Every stored event but its load columns (and source, when comparing two sources of one
    store), in the order of the source record id and row."""
    cur = store.con.execute("SELECT * FROM events LIMIT 0")
    skip = set(_LOAD_COLUMNS) | ({"source"} if source else set())
    cols = ", ".join(d[0] for d in cur.description if d[0] not in skip)
    where = "" if source is None else f" WHERE source = '{source}'"
    return store.con.execute(
        f"SELECT {cols} FROM events{where} ORDER BY source_record_id, row_no, event_type"
    ).fetchall()


def quarantine(store: Store, source: str | None = None) -> list[tuple[Any, ...]]:
    """Quarantined rows without their load (and file name: ``x.csv`` is ``x.csv.gz`` there)."""
    where = "" if source is None else f" WHERE source = '{source}'"
    return store.con.execute(
        f"SELECT {'' if source else 'source, '}row_no, field, reason, raw_value FROM quarantine"
        f"{where} ORDER BY ALL"
    ).fetchall()


def vault(store: Store) -> list[tuple[str, str, str]]:
    """The vault as (kind, hash, plaintext): ciphertexts carry a random nonce each."""
    got = store.con.execute("SELECT kind, hash, ciphertext FROM pii_vault ORDER BY kind, hash")
    return [(k, str(h), store.keys.decrypt(k, bytes(c))) for k, h, c in got.fetchall()]


@pytest.fixture
def twin_stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two stores keyed by one secret, so the same identifier hashes the same in both."""
    secret = "ab" * 32
    with (
        Store.open(Settings(db=tmp_path / "plain.duckdb", secret_key=secret), create=True) as a,
        Store.open(Settings(db=tmp_path / "gz.duckdb", secret_key=secret), create=True) as b,
    ):
        yield a, b


@pytest.fixture(scope="module")
def populations(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerationSummary, ...]:
    root = tmp_path_factory.mktemp("gzpop")
    return (
        generate(300, 6, 5, root / "plain"),
        generate(300, 6, 5, root / "gz", compress=True),
    )


def test_a_gzipped_population_loads_exactly_as_the_plain_one(
    twin_stores: tuple[Store, Store], populations: tuple[GenerationSummary, ...]
) -> None:
    plain_store, gz_store = twin_stores
    plain, packed = populations
    names = [f.path.name for f in packed.files]
    assert "payments.csv.gz" in names and "orders.jsonl.gz" in names
    assert "loans.parquet" in names  # Parquet compresses inside: written as it is
    plain_reports = ingest_population(plain_store, plain.out, max_reject_rate=0.02)
    gz_reports = ingest_population(gz_store, packed.out, max_reject_rate=0.02)
    keep = ("source", "rows_read", "rows_new", "rows_rejected", "encoding", "file_format")
    assert [[getattr(r, k) for k in keep] for r in gz_reports] == [
        [getattr(r, k) for k in keep] for r in plain_reports
    ]
    assert {r.encoding for r in gz_reports} >= {"gb18030"}  # the transcoded source came gzipped
    assert events(gz_store) == events(plain_store) != []
    assert quarantine(gz_store) == quarantine(plain_store) != []
    assert vault(gz_store) == vault(plain_store) != []
    files = gz_store.con.execute("SELECT DISTINCT file_name FROM quarantine").fetchall()
    assert all(f.endswith(".gz") for (f,) in files if not f.endswith(".parquet"))
    again = ingest_population(gz_store, packed.out, max_reject_rate=0.02)
    assert all(r.already_loaded_as is not None and r.rows_new == 0 for r in again)
    assert gz_store.scalar("SELECT count(*) FROM loads") == len(gz_reports)


_EXAMPLE = itertools.count()
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(_text, st.integers(-(10**6), 10**9), _text, _text), max_size=6),
    fmt=st.sampled_from(["csv", "jsonl"]),
    level=st.integers(1, 9),
)
def test_any_content_loads_the_same_gzipped(
    store: Store,
    tmp_path: Path,
    rows: list[tuple[str, int, str, str]],
    fmt: str,
    level: int,
) -> None:
    """Any rows (good, bad or odd text) give the same events and quarantine from ``x`` and
    ``x.gz``, or the same error; the ``.gz`` load adds no identifier the plain one did not."""
    n = next(_EXAMPLE)  # each example its own sources and folder: no history between them
    folder = tmp_path / str(n)
    folder.mkdir()
    records = [
        {
            "txn": f"R{i}{rid}",
            "when": "01/03/2026 10:00",
            "fen": fen,
            "cat": "G",
            "mobile": "13800000001",
            "name": name,
            "note": note,
        }
        for i, (rid, fen, name, note) in enumerate(rows)
    ]
    if fmt == "csv":
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(["txn", "when", "fen", "cat", "mobile", "name", "note"])
        out.writerows([list(r.values()) for r in records])
        text = buf.getvalue()
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    plain = write(folder / f"x.{fmt}", text)
    packed = gz(plain, level=level)
    outcomes = []
    for path, source in ((plain, f"plain{n}"), (packed, f"packed{n}")):
        mapping = payments_mapping(source=source, format=None)
        try:
            report = ingest(store, path, source, mapping, max_reject_rate=1.0)
        except InputError as exc:
            outcomes.append(str(exc).replace(str(path), "FILE"))
            continue
        outcomes.append((report.rows_read, report.rows_new, report.rows_rejected))
        if path == plain:
            before = vault(store)
    assert outcomes[0] == outcomes[1]
    assert events(store, f"packed{n}") == events(store, f"plain{n}")
    assert quarantine(store, f"packed{n}") == quarantine(store, f"plain{n}")
    if isinstance(outcomes[0], tuple):
        assert vault(store) == before


def test_a_bom_and_another_encoding_inside_a_gz_are_read(store: Store, tmp_path: Path) -> None:
    bom = gz(write(tmp_path / "bom.csv", "\ufeff" + HEADER + GOOD_ROWS[0]))
    assert ingest(store, bom, "shop", payments_mapping(format=None)).rows_new == 1
    chinese = gz(write(tmp_path / "gb.csv", HEADER + GOOD_ROWS[1], encoding="gb18030"))
    report = ingest(store, chinese, "shop", payments_mapping(format=None))
    assert (report.rows_new, report.encoding) == (1, "gb18030")
    assert store.scalar("SELECT name FROM events WHERE source_record_id = 'T2'") == "李娜"


def _damaged(tmp_path: Path) -> dict[str, bytes]:
    text = (HEADER + "".join(GOOD_ROWS) * 200).encode()
    packed = gzip.compress(text, 6, mtime=0)
    bad_crc = bytearray(packed)
    bad_crc[-6] ^= 1  # the CRC-32 in the trailer: the data still inflates
    flipped = bytearray(packed)
    flipped[len(flipped) // 2] ^= 0xFF
    return {
        "truncated": packed[: len(packed) // 2],
        "no trailer": packed[:-8],
        "bad crc": bytes(bad_crc),
        "flipped byte": bytes(flipped),
        "trailing junk": packed + b"junk",
        "not gzip": text,
        "header only": gzip.compress(b"", mtime=0)[:5],
    }


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "no trailer",
        "bad crc",
        "flipped byte",
        "trailing junk",
        "not gzip",
        "header only",
    ],
)
def test_a_damaged_gz_is_refused_by_name_and_changes_nothing(
    store: Store, tmp_path: Path, damage: str
) -> None:
    ingest(store, write(tmp_path / "first.csv", HEADER + GOOD_ROWS[0]), "shop", payments_mapping())
    before = events(store), store.scalar("SELECT count(*) FROM loads")
    path = tmp_path / "pay.csv.gz"
    path.write_bytes(_damaged(tmp_path)[damage])
    with pytest.raises(InputError, match=r"pay\.csv\.gz: not a readable gzip file"):
        ingest(store, path, "shop", payments_mapping(format=None))
    assert (events(store), store.scalar("SELECT count(*) FROM loads")) == before
    assert store.scalar("SELECT count(*) FROM quarantine") == 0


def test_a_gz_of_two_members_is_read_whole(store: Store, tmp_path: Path) -> None:
    """``cat a.gz b.gz`` is one valid gzip file (RFC 1952): both members are loaded."""
    path = tmp_path / "two.csv.gz"
    path.write_bytes(
        gzip.compress((HEADER + GOOD_ROWS[0]).encode(), mtime=0)
        + gzip.compress("".join(GOOD_ROWS[1:]).encode(), mtime=0)
    )
    assert ingest(store, path, "shop", payments_mapping(format=None)).rows_new == 3


def test_the_format_is_the_suffix_under_gz(tmp_path: Path) -> None:
    mapping = payments_mapping(format=None)
    assert mapping.file_format(tmp_path / "a.CSV.GZ") == "csv"
    assert mapping.file_format(tmp_path / "a.ndjson.gz") == "jsonl"
    with pytest.raises(ConfigError, match=r"suffix '\.gz'"):
        mapping.file_format(tmp_path / "a.gz")
    with pytest.raises(ConfigError, match="gzipped Parquet"):
        mapping.file_format(tmp_path / "a.parquet.gz")
