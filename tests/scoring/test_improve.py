"""How to improve lists only actions a person can take; each negative item says when it stops
counting (issue 14, item 7; docs/decisions/0534)."""

from __future__ import annotations

import datetime as dt

from credo.features import CATALOGUE, months_before
from credo.scoring import explain_score, score, train_model
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import END

OBS = dt.date(2025, 10, 31)
#: Who the person is or how long they have been somewhere: never advice.
IDENTITY = {"education", "months_with_employer", "months_at_current_address"}


def test_how_to_improve_never_suggests_who_you_are(loaded: Store) -> None:
    train_model(loaded, OBS)
    run = score(loaded, END)
    not_actionable = {f.name for f in CATALOGUE if not f.actionable}
    assert IDENTITY | {"months_since_oldest_account"} <= not_actionable
    snaps = rows(
        loaded.con,
        "SELECT person_id, improve_codes FROM score_snapshots WHERE run_id = ?",
        [run.run_id],
    )
    suggested = {code for s in snaps for code in s["improve_codes"]}
    assert suggested and not suggested & not_actionable
    # Identity features still score: they are reasons, never advice.
    held_back = rows(
        loaded.con,
        "SELECT person_id FROM score_snapshots WHERE run_id = ?"
        " AND list_has_any(reason_codes, ['education', 'months_with_employer']) LIMIT 20",
        [run.run_id],
    )
    assert held_back
    for person in [h["person_id"] for h in held_back]:
        improvements = {i["feature"] for i in explain_score(loaded, person).improvements}
        assert not improvements & not_actionable


def test_a_negative_item_says_when_it_stops_counting(loaded: Store) -> None:
    train_model(loaded, OBS)
    run = score(loaded, END)
    windows = {f.name: f.counts_months for f in CATALOGUE if f.counts_months is not None}
    found = rows(
        loaded.con,
        "SELECT person_id, reason_codes FROM score_snapshots WHERE run_id = ?"
        " AND list_has_any(reason_codes, ?) ORDER BY person_id LIMIT 30",
        [run.run_id, list(windows)],
    )
    assert len(found) == 30
    seen = set()
    for person in [f["person_id"] for f in found]:
        explained = explain_score(loaded, person)
        events = {f["feature"]: f["events"] for f in explained.features}
        for reason in explained.reasons:
            months = windows.get(reason["code"])
            if months is None or not events.get(reason["code"]):  # "not known": no item
                assert reason["counts_until"] is None
                continue
            seen.add(reason["code"])
            span = 84 if months == "retention" else months
            rule = "7 years" if months == "retention" else f"{months} months"
            newest = max(e["occurred_at"].date() for e in events[reason["code"]])
            assert f"counts for {rule}" in reason["counts_until"]
            assert reason["counts_until"].endswith(f"until {months_before(newest, -span)}")
    assert len(seen) >= 2
