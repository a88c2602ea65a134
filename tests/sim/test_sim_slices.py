"""A population built in slices of persons (decision 0970): the same kind of data as built at
once, every record valid and true, ids unique across slices, friendships across slices, and
only one slice's frame built at a time."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sim_reference import MEDIUM, Checked, check_sources, read_rows, tree_bytes

from credo.ingest.mapping import load_mapping
from credo.sim import GenerationSummary, generate
from credo.sim.context import Context
from credo.sim.frame import ParquetParts
from credo.sim.sources import SOURCES

SLICE = 400  # MEDIUM's 1,500 persons in four slices, the last one short


@pytest.fixture(scope="module")
def sliced(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(out=tmp_path_factory.mktemp("sliced"), slice_people=SLICE, **MEDIUM)


@pytest.fixture(scope="module")
def sliced_checked(sliced: GenerationSummary) -> dict[str, Checked]:
    return {c.source: c for c in check_sources(sliced)}


def test_every_row_is_valid_except_the_listed_ones_numbered_in_the_whole_file(
    sliced: GenerationSummary, sliced_checked: dict[str, Checked]
) -> None:
    manifest = json.loads(sliced.manifest.read_text("utf-8"))
    listed: dict[str, dict[int, str]] = {s: {} for s in SOURCES}
    for row in manifest["invalid_rows"]:
        listed[row["source"]][row["row"]] = row["field"]
    for source, checked in sliced_checked.items():
        assert checked.errors == listed[source], source
    # each slice carries its own invalid rentals, so some lie past the first slice's rows
    assert max(listed["rental_partners"]) > sliced.rows["rental_partners"] / 2
    assert manifest["arguments"]["slice_people"] == SLICE


def test_truth_covers_every_record_once_with_unique_ids(sliced: GenerationSummary) -> None:
    records = pq.read_table(sliced.truth_records)
    keys = list(
        zip(records["source"].to_pylist(), records["source_record_id"].to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys)) == sliced.total_rows
    expected = []
    for f in sliced.files:
        mapping = load_mapping(f.mapping)
        _, rows = read_rows(f.path, mapping)
        rid = mapping.fields["source_record_id"].column or ""
        expected += [(f.source, str(r[rid])) for r in rows]
    assert keys == expected
    rows = records["row"].to_pylist()
    for f in sliced.files:  # rows count on across slices: 1..n per file
        mine = [r for (s, _), r in zip(keys, rows, strict=True) if s == f.source]
        assert mine == list(range(1, f.rows + 1)), f.source


def test_every_slice_has_its_persons_records(sliced: GenerationSummary) -> None:
    persons = pq.read_table(sliced.truth_persons)["person_id"].to_pylist()
    index = {p: i for i, p in enumerate(persons)}
    records = pq.read_table(sliced.truth_records, columns=["source", "person_id"])
    per_slice: Counter[tuple[str, int]] = Counter(
        (s, index[p] // SLICE)
        for s, p in zip(
            records["source"].to_pylist(), records["person_id"].to_pylist(), strict=True
        )
    )
    for source in ("alipay_payments", "city_utilities", "identity_registry", "social_graph"):
        counts = [per_slice[(source, k)] for k in range(3)]  # three whole slices
        assert min(counts) > 0.8 * max(counts), (source, counts)


def test_friendships_cross_slices_and_stay_homophilous(sliced: GenerationSummary) -> None:
    persons = pq.read_table(sliced.truth_persons).to_pylist()
    index = {p["person_id"]: i for i, p in enumerate(persons)}
    latent = np.array([p["latent_creditworthiness"] for p in persons])
    graph = [
        (index[r["person_id"]], index[r["counterpart_person_id"]])
        for r in pq.read_table(sliced.truth_records).to_pylist()
        if r["source"] == "social_graph"
    ]
    edges = {(min(a, b), max(a, b)) for a, b in graph}
    across = sum(a // SLICE != b // SLICE for a, b in edges)
    assert across > 0.3 * len(edges)  # contacts are drawn from the whole population
    a, b = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    corr = np.corrcoef(
        np.concatenate([latent[a], latent[b]]), np.concatenate([latent[b], latent[a]])
    )[0, 1]
    assert corr > 0.2
    assert 8 <= 2 * len(edges) / len(persons) <= 15


def test_defaults_reach_the_court_list_in_every_slice(sliced: GenerationSummary) -> None:
    """bank_loans passes who defaulted to court_list slice by slice (ctx.shared)."""
    persons = pq.read_table(sliced.truth_persons).to_pylist()
    index = {p["person_id"]: i for i, p in enumerate(persons)}
    defaulted = np.array([p["defaulted_in_window"] for p in persons])
    assert all(defaulted[k * SLICE : (k + 1) * SLICE].any() for k in range(4))
    listed = np.zeros(len(persons), dtype=bool)
    for r in pq.read_table(sliced.truth_records).to_pylist():
        if r["source"] == "court_list":
            listed[index[r["person_id"]]] = True
    assert listed[defaulted].mean() > 3 * listed[~defaulted].mean()


def test_volumes_match_the_population_built_at_once(
    sliced: GenerationSummary, medium: GenerationSummary
) -> None:
    for source in SOURCES:
        once, in_slices = medium.rows[source], sliced.rows[source]
        # within 10% and four standard deviations of a count (the court list has few rows)
        assert abs(in_slices - once) <= 0.1 * once + 4 * once**0.5, (source, once, in_slices)
    assert sliced.persons == medium.persons


def test_builders_see_one_slice_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import credo.sim.population as population

    seen: list[tuple[str, int, int]] = []

    def watch(name: str, build: Any) -> Any:
        def watched(ctx: Context) -> Any:
            seen.append((name, ctx.first_person, ctx.persons.n))
            return build(ctx)

        return watched

    builders = {k: watch(k, v) for k, v in population.BUILDERS.items()}
    monkeypatch.setattr(population, "BUILDERS", builders)
    summary = generate(250, 2, 4, tmp_path, slice_people=100)
    assert seen == [(s, lo, n) for s in SOURCES for lo, n in ((0, 100), (100, 100), (200, 50))]
    assert summary.persons == 250


def test_same_slices_give_identical_bytes_and_other_slices_other_data(
    tmp_path: Path,
) -> None:
    one = generate(300, 2, 5, tmp_path / "one", slice_people=120)
    two = generate(300, 2, 5, tmp_path / "two", slice_people=120)
    whole = generate(300, 2, 5, tmp_path / "whole", slice_people=300)
    first, second, third = tree_bytes(one.out), tree_bytes(two.out), tree_bytes(whole.out)
    assert first == second
    payments = "alipay_payments/payments.csv"
    assert first[payments] != third[payments]
    manifest = json.loads(whole.manifest.read_text("utf-8"))
    assert "slice_people" not in manifest["arguments"]  # one slice: the unsliced files


def test_parquet_written_in_parts_is_the_table_written_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The truth table and Parquet sources arrive a slice at a time; held to whole row groups,
    their bytes are those of one ``pq.write_table`` with the same settings."""
    monkeypatch.setattr("credo.sim.frame.ROW_GROUP", 64)
    rng = np.random.default_rng(1)
    n = 300
    table = pa.table(
        {
            "k": pa.array(rng.integers(0, 10, n)),
            "s": pa.array([f"v{i % 17}" if i % 5 else None for i in range(n)], pa.string()),
        }
    )
    at_once = tmp_path / "at_once.parquet"
    pq.write_table(
        table,
        at_once,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        row_group_size=64,
        version="2.6",
        data_page_version="1.0",
        store_schema=False,
    )
    parts = tmp_path / "parts.parquet"
    with ParquetParts(parts) as writer:
        start = 0
        for size in (7, 0, 100, 1, 64, 128):
            writer.write(table.slice(start, size))
            start += size
    assert start == n
    assert pq.ParquetFile(parts).metadata.num_row_groups == 5
    assert parts.read_bytes() == at_once.read_bytes()


def test_persons_do_not_depend_on_slicing(
    sliced: GenerationSummary, medium: GenerationSummary
) -> None:
    """Persons are drawn for the whole population before any slice: only what the sources
    made of them (who defaulted) may differ."""
    assert (sliced.out / "protected/protected.csv").read_bytes() == (
        medium.out / "protected/protected.csv"
    ).read_bytes()
    once = pq.read_table(medium.truth_persons).drop_columns(["defaulted_in_window"])
    in_slices = pq.read_table(sliced.truth_persons).drop_columns(["defaulted_in_window"])
    assert in_slices.equals(once)
