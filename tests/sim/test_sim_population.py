"""The synthetic population: reproducible, valid against the event contract, with truth."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from sim_reference import SMALL, Checked, RunArgs, check_sources, read_rows, tree_bytes

from credo.errors import ConfigError
from credo.ingest.events import (
    BillEvent,
    CourtJudgmentEvent,
    EventBase,
    LoanEvent,
    PaymentEvent,
    RentalEvent,
)
from credo.ingest.mapping import load_mapping
from credo.sim import GenerationSummary, NoiseConfig, generate, is_valid_gb11643
from credo.sim.population import shipped_mapping_text
from credo.sim.sources import SOURCES

MAPPINGS = Path(__file__).resolve().parents[2] / "credo" / "mappings"


def test_same_seed_gives_identical_bytes(small: GenerationSummary, tmp_path: Path) -> None:
    again = generate(out=tmp_path / "again", **SMALL)
    first, second = tree_bytes(small.out), tree_bytes(again.out)
    assert list(first) == list(second)
    for name in first:
        assert first[name] == second[name], name


def test_files_written_in_chunks_are_the_files_written_at_once(
    small: GenerationSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writers stream a few rows at a time (demo memory, benchmarks/demo): a chunk edge
    in every file (a GB18030 CSV, JSON Lines) must not change a byte, nor the truth table
    built one source at a time."""
    monkeypatch.setattr("credo.sim.frame.CHUNK_ROWS", 7)
    again = generate(out=tmp_path / "chunked", **SMALL)
    first, second = tree_bytes(small.out), tree_bytes(again.out)
    assert list(first) == list(second)
    for name in first:
        assert first[name] == second[name], name
    assert {f.format for f in small.files if f.rows > 2 * 7} >= {"csv", "jsonl"}


def test_another_seed_gives_other_data(small: GenerationSummary, tmp_path: Path) -> None:
    args = RunArgs(people=SMALL["people"], months=SMALL["months"], seed=SMALL["seed"] + 1)
    other = generate(out=tmp_path / "other", **args)
    first, second = tree_bytes(small.out), tree_bytes(other.out)
    for f in small.files:
        name = f.path.relative_to(small.out).as_posix()
        assert first[name] != second[name], name


def test_summary_and_manifest_agree(small: GenerationSummary) -> None:
    manifest = json.loads(small.manifest.read_text("utf-8"))
    assert manifest["arguments"] == {**SMALL, "end": "2026-10-31"}
    assert manifest["window"] == {"start": "2026-08-01", "end": "2026-10-31"}
    assert list(manifest["sources"]) == list(SOURCES) == [f.source for f in small.files]
    for f in small.files:
        entry = manifest["sources"][f.source]
        assert entry["rows"] == f.rows  # a rare source (court_list) may be empty here
        assert small.out / entry["file"] == f.path
        assert f.mapping.read_bytes() == (MAPPINGS / f"{f.source}.yaml").read_bytes()
    assert small.persons == 50
    assert json.loads(json.dumps(small.to_dict()))["rows"] == small.rows


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="people"):
        generate(0, 3, 1, tmp_path)
    with pytest.raises(ConfigError, match="months"):
        generate(10, 0, 1, tmp_path)


def test_every_shipped_mapping_loads() -> None:
    shipped = sorted(p.stem for p in MAPPINGS.glob("*.yaml"))
    assert set(SOURCES) <= set(shipped)
    for source in SOURCES:
        mapping = load_mapping(MAPPINGS / f"{source}.yaml")
        assert mapping.source == source
        assert shipped_mapping_text(source) == (MAPPINGS / f"{source}.yaml").read_bytes()


def test_mappings_cover_exactly_the_columns(small: GenerationSummary) -> None:
    for f in small.files:
        mapping = load_mapping(f.mapping)
        header, _ = read_rows(f.path, mapping)
        used = mapping.source_columns()
        assert not used & set(mapping.ignore), f.source
        assert set(header) == used | set(mapping.ignore), f.source
        assert len(header) == len(set(header))


def test_every_row_is_a_valid_event_except_the_listed_ones(
    medium: GenerationSummary, medium_checked: dict[str, Checked]
) -> None:
    manifest = json.loads(medium.manifest.read_text("utf-8"))
    listed: dict[str, dict[int, str]] = {s: {} for s in SOURCES}
    for row in manifest["invalid_rows"]:
        listed[row["source"]][row["row"]] = row["field"]
    for source, checked in medium_checked.items():
        assert checked.errors == listed[source], source
    rental = listed["rental_partners"]
    rows = medium.rows["rental_partners"]
    assert 0.001 <= len(rental) / rows <= 0.004
    reasons = Counter(r["reason"] for r in manifest["invalid_rows"])
    assert len(reasons) == 4


def test_small_runs_carry_every_kind_of_invalid_row(small: GenerationSummary) -> None:
    checked = {c.source: c for c in check_sources(small)}
    manifest = json.loads(small.manifest.read_text("utf-8"))
    listed = {r["row"]: r["field"] for r in manifest["invalid_rows"]}
    assert checked["rental_partners"].errors == listed
    assert {"unpaid_amount", "item", "occurred_at"} == set(listed.values())
    assert all(not c.errors for s, c in checked.items() if s != "rental_partners")


def test_duckdb_sees_the_invalid_rows(medium: GenerationSummary) -> None:
    """An independent look with DuckDB's own JSON reader, all values read as text."""
    manifest = json.loads(medium.manifest.read_text("utf-8"))
    expected = {r["source_record_id"]: r["field"] for r in manifest["invalid_rows"]}
    path = medium.out / "rental_partners" / "orders.jsonl"
    items = "', '".join(["bike", "powerbank", "umbrella", "hotel", "car", "camera"])
    fmt = "%Y-%m-%dT%H:%M:%S"
    sql = f"""
        SELECT orderNo,
               CASE WHEN CAST(unpaidYuan AS DECIMAL(18, 2)) < 0 THEN 'unpaid_amount'
                    WHEN item NOT IN ('{items}') THEN 'item'
                    WHEN try_strptime(endTime, '{fmt}') IS NULL
                      OR try_strptime(endTime, '{fmt}') > TIMESTAMP '{medium.end} 23:59:59'
                    THEN 'occurred_at' END AS field
        FROM read_json('{path}', format = 'newline_delimited', columns = {{
            orderNo: 'VARCHAR', item: 'VARCHAR', endTime: 'VARCHAR', unpaidYuan: 'VARCHAR'}},
            ignore_errors = false)
    """
    with duckdb.connect() as con:
        found = {r[0]: r[1] for r in con.sql(sql).fetchall() if r[1] is not None}
    assert found == expected


def test_gb18030_file_is_not_utf8(small: GenerationSummary) -> None:
    data = (small.out / "city_utilities" / "bills.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gb18030").startswith("账单编号,类别,户名")


def test_events_fall_in_the_window(
    medium: GenerationSummary, medium_checked: dict[str, Checked]
) -> None:
    for checked in medium_checked.values():
        days = [e.occurred_at.date() for e in checked.events if e is not None]
        assert min(days) >= medium.start, checked.source
        assert max(days) <= medium.end, checked.source


def test_truth_covers_every_record(medium: GenerationSummary) -> None:
    records = pq.read_table(medium.truth_records).to_pylist()
    persons = {p["person_id"] for p in pq.read_table(medium.truth_persons).to_pylist()}
    keys = [(r["source"], r["source_record_id"]) for r in records]
    assert len(keys) == len(set(keys))
    expected = []
    for f in medium.files:
        mapping = load_mapping(f.mapping)
        _, rows = read_rows(f.path, mapping)
        rid = mapping.fields["source_record_id"].column or ""
        expected += [(f.source, str(r[rid])) for r in rows]
    assert keys == expected
    assert {r["person_id"] for r in records} <= persons
    graph = [r for r in records if r["source"] == "social_graph"]
    assert all(r["counterpart_person_id"] in persons for r in graph)


def test_generated_identity_numbers_are_sound(medium: GenerationSummary) -> None:
    persons = pq.read_table(medium.truth_persons).to_pylist()
    ids = [p["national_id"] for p in persons]
    assert len(set(ids)) == len(ids)
    for p in persons:
        nid = p["national_id"]
        assert is_valid_gb11643(nid), nid
        assert nid[6:14] == p["birth_date"].strftime("%Y%m%d")
        assert int(nid[16]) % 2 == (1 if p["sex"] == "M" else 0)
        assert p["phone"][0] == "1" and p["phone"][1] in "3456789" and len(p["phone"]) == 11
        assert 18 <= (medium.end - p["birth_date"]).days / 365.25 <= 76
        if p["script"] == "hanzi":
            assert nid[:6] == p["birth_region_code"]
    chinese = sum(p["script"] == "hanzi" for p in persons) / len(persons)
    assert 0.8 <= chinese <= 0.9


def test_twins_share_surname_birth_and_address(medium: GenerationSummary) -> None:
    persons = {p["person_id"]: p for p in pq.read_table(medium.truth_persons).to_pylist()}
    twins = [p for p in persons.values() if p["is_twin"]]
    assert len(twins) >= 4
    for p in twins:
        q = persons[p["twin_of"]]
        assert q["twin_of"] == p["person_id"]
        assert (p["family_name"], p["birth_date"], p["address"]) == (
            q["family_name"],
            q["birth_date"],
            q["address"],
        )
        assert p["national_id"] != q["national_id"] and p["given_name"] != q["given_name"]


def test_noise_rates_are_as_configured(medium: GenerationSummary) -> None:
    manifest = json.loads(medium.manifest.read_text("utf-8"))
    config = NoiseConfig()
    realised = manifest["noise"]["records"]
    expected = {
        "name_typo": config.name_typo,
        "missing_name": config.missing_field,
        "missing_phone": config.missing_field,
        "dob_day_month_swap": config.dob_day_month_swap,
        "second_phone": config.second_phone_use,
        "phone_format": config.phone_format_variant,
        "address_format": config.address_format_variant,
        "pinyin_order_swap": config.pinyin_order_swap,
    }
    for kind, rate in expected.items():
        r = realised[kind]
        assert r["eligible"] >= 100, kind
        sd = (rate * (1 - rate) / r["eligible"]) ** 0.5
        assert abs(r["rate"] - rate) < 4 * sd + 0.01, (kind, r)
    people = manifest["noise"]["persons"]
    assert abs(people["second_phone"]["rate"] - config.second_phone_persons) < 0.02
    assert abs(people["mover"]["rate"] - config.mover_persons) < 0.03
    assert people["surname_change"]["persons"] >= 3
    # the truth tags agree with the ledger
    tags = Counter(
        t.removeprefix("counterpart:")
        for n in pq.read_table(medium.truth_records, columns=["noise"]).column(0).to_pylist()
        for t in n.split(",")
        if t
    )
    for kind in expected:
        assert tags[kind] == realised[kind]["applied"], kind


def test_typo_tags_mark_exactly_the_misspelt_names(
    medium: GenerationSummary, medium_checked: dict[str, Checked]
) -> None:
    persons = {p["person_id"]: p for p in pq.read_table(medium.truth_persons).to_pylist()}
    records = [
        r
        for r in pq.read_table(medium.truth_records).to_pylist()
        if r["source"] == "alipay_payments"
    ]
    events = medium_checked["alipay_payments"].events
    for r, e in zip(records, events, strict=True):
        assert isinstance(e, PaymentEvent)
        tags = set(r["noise"].split(",")) - {""}
        truth = persons[r["person_id"]]
        if "missing_name" in tags:
            assert e.name is None
        elif "name_typo" in tags:
            assert e.name != truth["name"]
        elif not tags & {"previous_surname", "name_typo"}:
            assert e.name == truth["name"]


def test_bank_names_are_upper_case_pinyin(
    medium: GenerationSummary, medium_checked: dict[str, Checked]
) -> None:
    persons = {p["person_id"]: p for p in pq.read_table(medium.truth_persons).to_pylist()}
    records = [
        r for r in pq.read_table(medium.truth_records).to_pylist() if r["source"] == "bank_loans"
    ]
    clean = 0
    for r, e in zip(records, medium_checked["bank_loans"].events, strict=True):
        assert isinstance(e, LoanEvent) and e.name is not None
        assert e.name == e.name.upper()
        truth = persons[r["person_id"]]
        if truth["script"] == "hanzi":
            assert e.name.isascii()
            if r["noise"] == "":
                assert e.name == truth["pinyin"].upper()
                clean += 1
    assert clean > 100


def test_social_graph_is_homophilous(medium: GenerationSummary) -> None:
    persons = pq.read_table(medium.truth_persons).to_pylist()
    latent = {p["person_id"]: p["latent_creditworthiness"] for p in persons}
    edges = {
        tuple(sorted((r["person_id"], r["counterpart_person_id"])))
        for r in pq.read_table(medium.truth_records).to_pylist()
        if r["source"] == "social_graph"
    }
    a = np.array([latent[x] for x, _ in edges])
    b = np.array([latent[y] for _, y in edges])
    corr = np.corrcoef(np.concatenate([a, b]), np.concatenate([b, a]))[0, 1]
    assert corr > 0.2
    degree = 2 * len(edges) / len(persons)
    assert 8 <= degree <= 15


def test_court_listings_and_satisfactions(
    medium: GenerationSummary, medium_checked: dict[str, Checked]
) -> None:
    events = [e for e in medium_checked["court_list"].events if isinstance(e, CourtJudgmentEvent)]
    listed = {e.case_number: e for e in events if e.judgment_status == "listed"}
    satisfied = [e for e in events if e.judgment_status == "satisfied"]
    assert 0.005 <= len(listed) / medium.persons <= 0.03
    assert satisfied
    for s in satisfied:
        first = listed[s.case_number]
        assert s.source_record_id != first.source_record_id
        assert s.national_id == first.national_id
        assert s.satisfied_on is not None and s.satisfied_on >= first.listed_on


def test_latent_creditworthiness_drives_behaviour(
    medium: GenerationSummary, medium_checked: dict[str, Checked]
) -> None:
    persons = {p["person_id"]: p for p in pq.read_table(medium.truth_persons).to_pylist()}
    records = pq.read_table(medium.truth_records).to_pylist()
    by_source: dict[str, list[str]] = {}
    for r in records:
        by_source.setdefault(r["source"], []).append(r["person_id"])

    def mean_latent(source: str, bad: Callable[[EventBase], bool]) -> tuple[float, float]:
        events = medium_checked[source].events
        flags = [
            (persons[p]["latent_creditworthiness"], bad(e))
            for p, e in zip(by_source[source], events, strict=True)
            if e is not None
        ]
        worse = [z for z, f in flags if f]
        better = [z for z, f in flags if not f]
        return float(np.mean(worse)), float(np.mean(better))

    late_loans = mean_latent(
        "bank_loans", lambda e: isinstance(e, LoanEvent) and (e.days_past_due or 0) > 0
    )
    assert late_loans[0] < late_loans[1] - 0.3
    late_bills = mean_latent(
        "city_utilities",
        lambda e: isinstance(e, BillEvent) and (e.paid_date is None or e.paid_date > e.due_date),
    )
    assert late_bills[0] < late_bills[1] - 0.3
    late_rentals = mean_latent(
        "rental_partners", lambda e: isinstance(e, RentalEvent) and not e.returned_on_time
    )
    assert late_rentals[0] < late_rentals[1] - 0.2


def test_volume_per_person(medium: GenerationSummary) -> None:
    # 6 months here; the demo's 12 months land at roughly 70 events per person
    assert 25 <= medium.total_rows / medium.persons <= 60


def test_dates_do_not_pass_the_end(tmp_path: Path) -> None:
    summary = generate(40, 2, 5, tmp_path, end=dt.date(2025, 2, 14))
    assert summary.start == dt.date(2024, 12, 15)
    for checked in check_sources(summary):
        for e in checked.events:
            if e is not None:
                assert summary.start <= e.occurred_at.date() <= summary.end


@pytest.mark.parametrize("people", [1, 2])
def test_tiny_populations_still_generate(people: int, tmp_path: Path) -> None:
    summary = generate(people, 1, 0, tmp_path)
    records = pq.read_table(summary.truth_records)
    assert records.num_rows == summary.total_rows
    assert summary.persons == people
