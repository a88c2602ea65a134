"""A steady population (issue 14 item 2, docs/decisions/0538): files open in every month, no
source records anything about a person before their file opens, new users enrol in every
month of the window (the last one included), and borrowers keep borrowing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sim_reference import check_sources

from credo.errors import ConfigError
from credo.sim import Arrivals, GenerationSummary, generate

#: Records not drawn over a person's time on file: civic conduct, and the registry's
#: address records of persons who move (they keep the day of the move).
_EXEMPT = {"civic_conduct"}


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(600, 24, 5, tmp_path_factory.mktemp("steady"), arrivals=Arrivals())


def _month(day: dt.date) -> tuple[int, int]:
    return day.year, day.month


def _arrivals(summary: GenerationSummary) -> dict[str, dt.date]:
    rows = pq.read_table(summary.truth_persons, columns=["person_id", "arrived_on"]).to_pylist()
    return {r["person_id"]: r["arrived_on"] for r in rows}


def test_files_open_in_every_month_and_nothing_is_recorded_before(
    steady: GenerationSummary,
) -> None:
    arrived = _arrivals(steady)
    start = steady.start
    late = [d for d in arrived.values() if d > start]
    assert 0.4 < len(late) / len(arrived) < 0.6  # half on file from the start
    months = {(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1)
              for k in range(24)}  # fmt: skip
    assert {_month(d) for d in late} == months  # new files in every month of the window

    truth = pq.read_table(steady.truth_records).to_pylist()
    person = {(r["source"], r["row"]): r["person_id"] for r in truth}
    movers = {
        r["person_id"]
        for r in pq.read_table(steady.truth_persons, columns=["person_id", "moved_on"]).to_pylist()
        if r["moved_on"] is not None
    }
    checked = 0
    for source in check_sources(steady):
        if source.source in _EXEMPT:
            continue
        for row, event in enumerate(source.events, start=1):
            who = person[(source.source, row)]
            if event is None or (source.source == "identity_registry" and who in movers):
                continue
            assert event.occurred_at.date() >= arrived[who], (source.source, row, who)
            checked += 1
    assert checked > 10_000


def test_new_users_enrol_in_every_month_and_borrowers_keep_borrowing(
    steady: GenerationSummary, tmp_path: Path
) -> None:
    arrived = _arrivals(steady)
    consents = next(c for c in check_sources(steady) if c.source == "consents")
    truth = pq.read_table(steady.truth_records).to_pylist()
    person = {r["row"]: r["person_id"] for r in truth if r["source"] == "consents"}
    enrolled = [
        (person[row], e.occurred_at.date())
        for row, e in enumerate(consents.events, start=1)
        if e is not None and getattr(e, "consent_action", None) == "enrol"
    ]
    by_month = Counter(_month(day) for _, day in enrolled)
    last_year = [_month(dt.date(2026, m, 1)) for m in range(1, 11)]
    assert all(by_month[m] > 0 for m in last_year), by_month
    # among them, users whose file opened in that very year
    assert any(arrived[p] >= dt.date(2026, 1, 1) for p, day in enrolled if day.year == 2026)

    # The same seed without arrivals: everyone on file throughout, a loan or two per borrower.
    closed = generate(600, 24, 5, tmp_path / "closed")
    assert set(_arrivals(closed).values()) == {closed.start}
    accounts = [
        pq.read_table(s.out / "bank_loans" / "loans.parquet").column("ACCT_NO").unique()
        for s in (steady, closed)
    ]
    assert len(accounts[0]) > 1.2 * len(accounts[1]), [len(a) for a in accounts]


def test_arrivals_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"arrivals\.present must be between 0 and 1"):
        Arrivals(present=1.5)
    with pytest.raises(ConfigError, match=r"arrivals\.borrowers must be between 0 and 1"):
        Arrivals(borrowers=-0.1)
    with pytest.raises(ConfigError, match="loans_per_year"):
        Arrivals(loans_per_year=-1)
