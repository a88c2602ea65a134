"""Blocking must not pair the strangers of a large city (decision 0997).

Every candidate pair costs the comparison of all fields, so a blocking key that strangers
share often makes resolution grow with the square of the records: the ten-character address
tail did (20.7M pairs at 100,000 persons, about 500M at a million). Here 100,000 strangers
live at addresses drawn as the generator draws them, with no identifier in common; the rules
may pair only those whose street numbers, buildings, units and rooms all agree.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from credo.identity.linkage import BLOCKING_RULES
from credo.identity.records import linkage_frame
from credo.sim.places import REGIONS, format_address

STRANGERS = 100_000


def _city(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    regions = rng.integers(0, len(REGIONS), n)
    half = n // 2
    # half written in full, half without province and city: the variant the rules must keep
    addresses = [format_address(REGIONS[int(r)], rng) for r in regions]
    for i in range(half, n):
        region = REGIONS[int(regions[i])]
        addresses[i] = addresses[i].removeprefix(region.province).removeprefix(region.city)
    none = pa.nulls(n, pa.string())
    return pa.table(
        {
            "record_id": pa.array([f"r{i:07d}" for i in range(n)]),
            "subject_ref": none,
            "name": none,
            "birth_date": pa.nulls(n, pa.date32()),
            "sex": none,
            "national_id_hash": none,
            "phone_hash": none,
            "address": pa.array(addresses),
        }
    )


def _pairs(con: duckdb.DuckDBPyConnection, rules: tuple[str, ...]) -> int:
    blocked = " UNION ".join(
        f"SELECT l.record_id AS a, r.record_id AS b FROM frame l JOIN frame r "
        f"ON ({rule}) AND l.record_id < r.record_id"
        for rule in rules
    )
    row = con.execute(f"SELECT count(*) FROM ({blocked})").fetchone()
    assert row is not None
    return int(row[0])


def test_strangers_at_random_addresses_are_rarely_paired() -> None:
    con = duckdb.connect()
    frame = linkage_frame(con, _city(STRANGERS, 5))
    con.register("frame", frame)
    pairs = _pairs(con, BLOCKING_RULES)
    # the same street number, building, unit and room in another street
    assert pairs < STRANGERS // 25, pairs  # 1,342 here
    # the rule it replaced: 463,777 pairs here
    assert _pairs(con, ("l.address_tail = r.address_tail",)) > 2 * STRANGERS


@settings(max_examples=60, deadline=None)
@given(region=st.integers(0, len(REGIONS) - 1), seed=st.integers(0, 2**32 - 1))
def test_a_shortened_address_is_still_a_candidate(region: int, seed: int) -> None:
    """Any address, full and without province and city, on one person's two records (the same
    name, nothing else shared) is a candidate pair: a flat through its 14-character suffix, a
    house in a lane (shorter than that) through its tail and the name. Not a lane house whose
    short form is under ten characters (``东城区建设路24号``): its tail takes a character of
    the city from the full form, so only the other identifiers pair it (decision 0997; the
    rule before it had the same gap)."""
    place = REGIONS[region]
    full = format_address(place, np.random.default_rng(seed))
    shortened = full.removeprefix(place.province).removeprefix(place.city)
    assume(len(shortened) >= 10)
    records = _city(2, 0).set_column(7, "address", pa.array([full, shortened]))
    records = records.set_column(2, "name", pa.array(["王芳", "王芳"]))
    con = duckdb.connect()
    con.register("frame", linkage_frame(con, records))
    row = con.execute(
        f"SELECT count(*) FROM frame l JOIN frame r ON ({' OR '.join(BLOCKING_RULES)}) "
        "WHERE l.record_id = 'r0000000' AND r.record_id = 'r0000001'"
    ).fetchone()
    assert row == (1,), (full, shortened)
