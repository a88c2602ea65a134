"""Corrections only help (issue 14, item 4; docs/decisions/0531): a correction re-score stands at
the month of the person's latest monthly score, so the change shown is the correction's alone,
and a correction in the person's favour never lowers the score."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.rights import feed
from credo.rights.disputes import open_dispute, resolve_dispute
from credo.scoring import latest_known_at, latest_snapshot, score, train_model
from credo.scoring.demo import month_ends
from credo.settings import Settings
from credo.store.db import Store
from credo.store.rows import one, rows

from .conftest import END, add_events

OBS = dt.date(2025, 10, 31)
# After the wall clock that recorded the population (ingest records loads as of now).
RESOLVED = dt.datetime(2027, 1, 20, 10)
NEXT = dt.date(2027, 1, 31)
DIMENSIONS = ("credit_history", "behaviour", "fulfilment_capacity", "identity", "connections")


def _open(template: Path, folder: Path) -> Store:
    db = folder / "credo.duckdb"
    shutil.copy(template, db)
    shutil.copy(template.with_suffix(".key"), db.with_suffix(".key"))
    return Store.open(Settings(db=db))


@pytest.fixture(scope="module")
def scored_db(population_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test population with one court listing known to the runs, a model and three months
    of monthly runs up to END."""
    with _open(population_db, tmp_path_factory.mktemp("scored")) as store:
        train_model(store, OBS)
        person = _well_scored(store)
        add_events(
            store,
            [
                {
                    "person_id": person,
                    "event_type": "court_judgment",
                    "occurred_at": dt.datetime(2026, 6, 1),
                    "court": "北京市朝阳区人民法院",
                    "case_number": "(2026)京0105执1234",
                    "amount": 8000,
                    "listed_on": dt.date(2026, 6, 1),
                    "judgment_status": "listed",
                }
            ],
            latest_known_at(store),
        )
        for month in month_ends(END, 3):
            score(store, month)
        store.con.execute("CHECKPOINT")
        return store.path


def _well_scored(store: Store) -> str:
    """A person with a long file (scored well above the cap)."""
    found = one(
        store.con,
        "SELECT e.person_id FROM event_persons e WHERE e.role = 'subject'"
        " GROUP BY e.person_id HAVING count(*) > 60 ORDER BY e.person_id LIMIT 1",
    )
    assert found is not None
    return str(found["person_id"])


@pytest.fixture
def scored(scored_db: Path, tmp_path: Path) -> Iterator[Store]:
    with _open(scored_db, tmp_path) as store:
        yield store


def _listing(store: Store) -> dict[str, Any]:
    found = one(
        store.con,
        "SELECT e.event_id, p.person_id FROM events e JOIN event_persons p"
        " ON p.event_id = e.event_id AND p.role = 'subject'"
        " WHERE e.case_number = '(2026)京0105执1234'",
    )
    assert found is not None
    return found


def _snapshot(store: Store, run_id: str, person: str) -> dict[str, Any]:
    found = one(
        store.con,
        "SELECT * FROM score_snapshots WHERE run_id = ? AND person_id = ?",
        [run_id, person],
    )
    assert found is not None
    return found


def test_a_won_dispute_is_rescored_at_the_month_of_the_latest_score(scored: Store) -> None:
    listing = _listing(scored)
    person = listing["person_id"]
    monthly = latest_snapshot(scored, person)
    assert monthly is not None and monthly.as_of == END and monthly.score == 549
    before = _snapshot(scored, monthly.run_id, person)
    # Arrives after the monthly run: the correction re-score must not mix it in.
    add_events(
        scored,
        [
            {
                "person_id": person,
                "event_type": "loan",
                "occurred_at": dt.datetime(2026, 10, 20),
                "loan_event": "default",
                "account_id": "LATE1",
                "days_past_due": 120,
                "due_date": dt.date(2026, 6, 20),
            }
        ],
        RESOLVED - dt.timedelta(days=1),
    )
    dispute = open_dispute(scored, person, listing["event_id"], "I paid", now=RESOLVED)
    done = resolve_dispute(
        scored,
        dispute.dispute_id,
        "correct",
        amendment={"judgment_status": "satisfied", "satisfied_on": "2026-08-15"},
        now=RESOLVED,
    )
    assert done.rescored_run_id is not None and done.rescored_run_id.startswith("correction-")
    run = one(scored.con, "SELECT * FROM score_runs WHERE run_id = ?", [done.rescored_run_id])
    assert run is not None and run["kind"] == "correction" and run["as_of"] == END
    after = _snapshot(scored, done.rescored_run_id, person)
    assert after["score"] > 549 and not after["capped"] and after["court_listings"] == []
    assert after["previous_score"] == 549 and after["trend"] == after["score"] - 549
    # The same events as the monthly score: only the listing's cap went.
    assert after["known_at"] == before["known_at"]
    assert after["model_score"] == before["model_score"]
    assert [after[f"{d}_points"] for d in DIMENSIONS] == [before[f"{d}_points"] for d in DIMENSIONS]
    assert latest_snapshot(scored, person).run_id == done.rescored_run_id  # type: ignore[union-attr]

    texts = {a["kind"]: a["text"] for a in feed(scored, person)}
    assert texts["dispute"] == (
        "Your dispute about the court listing by 北京市朝阳区人民法院 (case (2026)京0105执1234)"
        " was resolved:"
        f" corrected; score 549 -> {after['score']:.0f} (October 2026 score, corrected)"
    )
    assert texts["listing_lifted"].startswith(
        "Listing by 北京市朝阳区人民法院 (case (2026)京0105执1234)"
    )
    assert "score_change" not in texts  # the correction's change is told by its dispute

    # The next monthly run carries the correction: its trend starts from the corrected score.
    following = score(scored, NEXT)
    carried = _snapshot(scored, following.run_id, person)
    assert carried["previous_score"] == after["score"] and carried["court_listings"] == []


def _favourable(store: Store) -> list[tuple[str, int, str, dict[str, Any] | None]]:
    """Corrections in the person's favour on negative items of persons scored at END: retract
    the item, satisfy a judgment, fewer days past due, a bill paid on its due date."""
    items: list[tuple[str, int, str, dict[str, Any] | None]] = []
    found = rows(
        store.con,
        "SELECT p.person_id, e.event_id, e.event_type, e.days_past_due, e.due_date,"
        " e.loan_event FROM events e"
        " JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
        " JOIN score_snapshots s ON s.person_id = p.person_id"
        " JOIN score_runs r ON r.run_id = s.run_id AND r.kind = 'monthly' AND r.as_of = ?"
        " WHERE e.occurred_at < ? AND ("
        "   (e.event_type = 'loan' AND (e.days_past_due > 0 OR e.loan_event = 'default'))"
        "   OR (e.event_type = 'bill' AND (e.paid_date IS NULL OR e.paid_date > e.due_date))"
        "   OR (e.event_type = 'rental' AND e.damage)"
        "   OR (e.event_type = 'court_judgment' AND e.judgment_status = 'listed'))"
        " ORDER BY e.event_id",
        [END, dt.datetime(2026, 11, 1)],
    )
    for e in found:
        person, event = str(e["person_id"]), int(e["event_id"])
        items.append((person, event, "retract", None))
        if e["event_type"] == "court_judgment":
            items.append((person, event, "amend", {"judgment_status": "satisfied"}))
        elif e["event_type"] == "loan" and (e["days_past_due"] or 0) > 0:
            items.append((person, event, "amend", {"days_past_due": 0}))
            items.append((person, event, "amend", {"days_past_due": e["days_past_due"] // 2}))
        elif e["event_type"] == "bill":
            items.append((person, event, "amend", {"paid_date": str(e["due_date"])}))
        elif e["event_type"] == "rental":
            items.append((person, event, "amend", {"damage": False}))
    return items


@pytest.fixture(scope="module")
def favourable(scored_db: Path) -> list[tuple[str, int, str, dict[str, Any] | None]]:
    with Store.open(Settings(db=scored_db)) as store:
        items = _favourable(store)
    assert len({action for _, _, action, _ in items}) == 2 and len(items) > 100
    return items


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_correction_in_the_persons_favour_never_lowers_the_score(
    scored_db: Path, favourable: list[tuple[str, int, str, dict[str, Any] | None]], data: Any
) -> None:
    person, event, action, amendment = data.draw(st.sampled_from(favourable))
    with tempfile.TemporaryDirectory() as folder, _open(scored_db, Path(folder)) as store:
        last = latest_snapshot(store, person)
        assert last is not None and last.as_of == END
        dispute = open_dispute(store, person, event, "this is wrong", now=RESOLVED)
        done = resolve_dispute(
            store, dispute.dispute_id, "correct", action=action,  # type: ignore[arg-type]
            amendment=amendment, now=RESOLVED,
        )  # fmt: skip
        assert done.rescored_run_id is not None
        after = _snapshot(store, done.rescored_run_id, person)
        assert after["as_of"] == END
        assert after["score"] >= last.score, (action, amendment, after["reason_codes"])
