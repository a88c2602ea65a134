"""Asset data counts only with the person's written consent (RULES R-CRR-4, decision 0691):
without it a person's tax bills and vehicles are withheld from every feature, and persons
without asset data get the same features, bit for bit."""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

import pytest

from credo.errors import InputError
from credo.features import ASSETS_WITHHELD, PointInTime, feature_steps, features_sql
from credo.policy.rules import load_rules
from credo.rights.consent import ASSET_CONSEQUENCES_VERSION, record_consent
from credo.scoring.runner import stepwise
from credo.store.db import Store

from .conftest import END, add_events

LATER = dt.datetime(2027, 1, 1)


def _bits(row: dict[str, Any]) -> dict[str, Any]:
    return {k: struct.pack("<d", v) if isinstance(v, float) else v for k, v in row.items()}


def _features(store: Store, pit: PointInTime, *, withhold: bool) -> dict[str, dict[str, Any]]:
    # The monthly run's way: step by step.
    with stepwise(store.con, feature_steps(pit, withhold_assets=withhold)) as sql:
        table = store.con.sql(sql).to_arrow_table()
    return {r["person_id"]: _bits(r) for r in table.to_pylist()}


def _with_asset_rows(store: Store) -> set[str]:
    found = store.con.execute(
        "SELECT DISTINCT p.person_id FROM events e JOIN event_persons p"
        " ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE e.bill_kind = 'tax' OR e.attribute = 'vehicle'"
    ).fetchall()
    return {r[0] for r in found}


def test_R_CRR_4_asset_data_counts_only_with_written_consent_others_unchanged(
    loaded: Store,
) -> None:
    assert load_rules("cn-crr").consents.assets_written
    assert load_rules("default").consents.assets_written == ASSETS_WITHHELD  # the Spark lake's
    assert not load_rules("us-fcra").consents.assets_written
    pit = PointInTime(END, LATER)
    open_, gated = _features(loaded, pit, withhold=False), _features(loaded, pit, withhold=True)
    assets = _with_asset_rows(loaded)
    assert set(open_) == set(gated) and len(open_) > 500
    changed = {p for p in open_ if open_[p] != gated[p]}
    # Withheld: some persons' features move, and only persons with asset data.
    assert changed and changed <= assets
    assert all(open_[p] == gated[p] for p in set(open_) - assets)  # bit for bit

    # A person without asset data gets an unpaid tax bill and a vehicle on record.
    person = sorted(set(open_) - assets)[0]
    add_events(loaded, [
        {"person_id": person, "event_type": "bill", "occurred_at": dt.datetime(2026, 3, 1),
         "bill_kind": "tax", "amount": 800, "due_date": dt.date(2026, 3, 31)},
        {"person_id": person, "event_type": "attribute", "occurred_at": dt.datetime(2026, 3, 2),
         "attribute": "vehicle", "attribute_value": "浙A12345"},
    ], dt.datetime(2026, 4, 1))  # fmt: skip
    before = gated[person]
    gated_now = _features(loaded, pit, withhold=True)[person]
    assert gated_now == before  # no consent: not scored
    counted = _features(loaded, pit, withhold=False)[person]
    assert counted["unpaid_bills"] == before["unpaid_bills"] + 1
    assert counted["history_events"] == before["history_events"] + 1

    # Written consent names the consequences statement the person read; nothing else will do.
    with pytest.raises(InputError, match="acknowledged"):
        record_consent(loaded, person, "grant_assets", now=dt.datetime(2026, 10, 1))
    with pytest.raises(InputError, match="acknowledged"):
        record_consent(loaded, person, "grant_assets", acknowledged="yes",
                       now=dt.datetime(2026, 10, 1))  # fmt: skip
    record_consent(loaded, person, "grant_assets", acknowledged=ASSET_CONSEQUENCES_VERSION,
                   now=dt.datetime(2026, 10, 1))  # fmt: skip
    consented = _features(loaded, pit, withhold=True)[person]
    assert consented == counted
    # The one-person query (a re-score, an explanation) agrees with the run.
    one = loaded.con.sql(features_sql(pit, person=person, withhold_assets=True)).to_arrow_table()
    assert _bits(one.to_pylist()[0]) == consented
    # Withdrawn: withheld again from the next point in time that knows it.
    record_consent(loaded, person, "revoke_assets", now=dt.datetime(2026, 10, 20))
    assert _features(loaded, pit, withhold=True)[person] == before
