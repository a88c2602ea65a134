"""Gzipped source files (issue 21, docs/decisions/0123): the text inside is byte for byte the
uncompressed file's, the ``.gz`` bytes are reproducible, and the default writes no ``.gz``."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_reference import SMALL, tree_bytes

from credo.errors import ConfigError
from credo.sim import GenerationSummary, compress_population, generate
from credo.sim.frame import FrameWriter, SourceFrame


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    # Slices of 20 persons: the .gz files are written one frame after another, as at 1M.
    return generate(out=tmp_path_factory.mktemp("packed"), compress=True, slice_people=20, **SMALL)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(out=tmp_path_factory.mktemp("plain"), slice_people=20, **SMALL)


def test_every_gz_inflates_to_the_plain_file_and_the_rest_is_equal(
    packed: GenerationSummary, plain: GenerationSummary
) -> None:
    gz, flat = tree_bytes(packed.out), tree_bytes(plain.out)
    inflated = {
        name.removesuffix(".gz"): gzip.decompress(b) if name.endswith(".gz") else b
        for name, b in gz.items()
    }
    assert set(inflated) == set(flat)
    for name, data in flat.items():
        if name != "manifest.json":
            assert inflated[name] == data, name
    zipped = sorted(n for n in gz if n.endswith(".gz"))
    text_sources = sorted(
        f.path.relative_to(plain.out).as_posix() + ".gz"
        for f in plain.files
        if f.format in ("csv", "jsonl")
    )
    assert zipped == text_sources and len(zipped) >= 6
    assert all(gz[n][4:8] == b"\0\0\0\0" for n in zipped)  # mtime 0


def test_the_manifest_names_the_gz_files_and_else_is_the_plain_one(
    packed: GenerationSummary, plain: GenerationSummary
) -> None:
    got = json.loads(packed.manifest.read_text(encoding="utf-8"))
    want = json.loads(plain.manifest.read_text(encoding="utf-8"))
    assert got["arguments"].pop("compress") is True
    assert "compress" not in want["arguments"]
    for source, entry in got["sources"].items():
        assert (packed.out / entry["file"]).is_file()
        plain_file = want["sources"][source]["file"]
        assert entry["file"] == plain_file + (".gz" if entry["format"] != "parquet" else "")
        entry["file"] = plain_file
    for row in got["invalid_rows"]:
        assert (packed.out / row["file"]).is_file()
        row["file"] = row["file"].removesuffix(".gz")
    assert got == want


def test_the_gz_files_are_reproducible(packed: GenerationSummary, tmp_path: Path) -> None:
    again = generate(out=tmp_path / "again", compress=True, slice_people=20, **SMALL)
    assert tree_bytes(again.out) == tree_bytes(packed.out)


def _frame(fmt: str, encoding: str, names: list[str | None], amounts: list[int]) -> SourceFrame:
    n = len(names)
    columns: dict[str, Any] = {"id": [f"r{i}" for i in range(n)], "name": names, "fen": amounts}
    return SourceFrame(
        source="s",
        file_name=f"f.{fmt}",
        format="csv" if fmt == "csv" else "jsonl",
        columns=columns,
        record_id="id",
        person=np.arange(n, dtype=np.int64),
        noise=[""] * n,
        encoding=encoding,
    )


_names = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=10))


@settings(max_examples=40, deadline=None)
@given(
    fmt=st.sampled_from(["csv", "jsonl"]),
    frames=st.lists(st.lists(st.tuples(_names, st.integers(-(10**12), 10**12))), max_size=4),
    gb18030=st.booleans(),
)
def test_any_frames_written_gzipped_inflate_to_the_plain_bytes(
    tmp_path_factory: pytest.TempPathFactory,
    fmt: str,
    frames: list[list[tuple[str | None, int]]],
    gb18030: bool,
) -> None:
    folder = tmp_path_factory.mktemp("frames")
    encoding = "gb18030" if gb18030 else "utf-8"
    plain, packed = folder / f"f.{fmt}", folder / f"f.{fmt}.gz"
    with FrameWriter(plain) as flat, FrameWriter(packed, compress=True) as gz:
        for rows in frames or [[]]:
            frame = _frame(fmt, encoding, [r[0] for r in rows], [r[1] for r in rows])
            flat.write(frame)
            gz.write(frame)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()


def test_packing_a_plain_population_gives_the_generator_s_gz_bytes(
    packed: GenerationSummary, plain: GenerationSummary, tmp_path: Path
) -> None:
    copy = tmp_path / "plain"
    shutil.copytree(plain.out, copy)
    written = compress_population(copy)
    assert sorted(p.name for p in written) == sorted(
        Path(n).name for n in tree_bytes(packed.out) if n.endswith(".gz")
    )
    assert tree_bytes(copy) == tree_bytes(packed.out)  # every file, the manifest too, byte for byte
    with pytest.raises(ConfigError, match="manifest"):
        compress_population(tmp_path / "nowhere")
