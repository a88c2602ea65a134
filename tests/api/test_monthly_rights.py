"""What the monthly run owes the person's rights (decision 0647).

A restriction holds the person's processing everywhere (RULES R-GDPR-5, GDPR Art. 18;
decision 0647): the monthly run gives them no snapshot, an off-cycle re-score is refused, a
points regime's run gives them no ledger, and lifting it scores them at once at the date they
missed. Decisions and reports refusing with the reason are
``test_erasure.py::test_R_GDPR_5_a_restriction_stops_decisions_and_reports_and_keeps_the_data``.

The retention engine runs first in every monthly run (RULES R-FCRA-10, R-CRR-1), audited, so
an aged item is gone before the run reads events.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from credo.features import PointInTime, enrolled_sql
from credo.ingest.events import LoanEvent
from credo.rights.audited import append_event
from credo.rights.disputes import rescore_now
from credo.rights.erasure import lift_restriction, restrict
from credo.scoring import latest_snapshot, score
from credo.scoring.runs import latest_known_at
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store

from .conftest import END, scored_persons

MONTH = dt.date(2026, 11, 30)


def _run_persons(store: Store, run_id: str) -> set[str]:
    found = store.con.execute(
        "SELECT person_id FROM score_snapshots WHERE run_id = ?", [run_id]
    ).fetchall()
    return {p for (p,) in found}


def test_R_GDPR_5_the_monthly_run_holds_a_restricted_person_until_the_restriction_is_lifted(
    db: Path,
) -> None:
    person, other = scored_persons(db, 2)
    with Store.open(Settings(db=db)) as store:
        first = store.scalar("SELECT run_id FROM score_runs WHERE kind = 'monthly'")
        before = _run_persons(store, str(first))
        restrict(store, person)
        run = score(store, MONTH)
        scored = _run_persons(store, run.run_id)
        assert person not in scored and other in scored
        assert before - {person} <= scored  # nobody else is held
        assert rescore_now(store, person, dt.datetime(2026, 12, 1)) is None
        last = latest_snapshot(store, person)
        assert last is not None and last.as_of == END  # the data is kept, not re-scored

        pit = PointInTime(MONTH, latest_known_at(store), 7)
        enrolled = {p for (p,) in store.con.execute(enrolled_sql(pit)).fetchall()}
        assert person not in enrolled and other in enrolled  # a points regime holds them too

        lift_restriction(store, person)
        caught = latest_snapshot(store, person)
        assert caught is not None and caught.as_of == MONTH and caught.run_id != run.run_id


def test_R_FCRA_10_the_monthly_run_purges_obsolete_items_before_it_scores(db: Path) -> None:
    person = scored_persons(db, 1)[0]
    with Store.open(Settings(db=db)) as store:
        old = LoanEvent(
            source_record_id="OLD-default", occurred_at=dt.datetime(2015, 1, 1),
            loan_event="default", account_id="OLD", amount=Decimal("5000.00"),
            paid_date=dt.date(2016, 3, 1))  # fmt: skip
        with store.write(AuditEntry("test", "ingest")) as con:
            aged = append_event(con, old, source="bank", person_id=person,
                                recorded_at=dt.datetime(2026, 11, 1))  # fmt: skip
        run = score(store, MONTH)
        assert store.scalar("SELECT count(*) FROM events WHERE event_id = ?", [aged]) == 0
        logged = store.con.execute(
            "SELECT action, actor, details FROM audit_log ORDER BY seq DESC LIMIT 2"
        ).fetchall()
        (ran, _, _), (purge, actor, details) = logged
        assert (purge, actor, ran) == ("retention.run", "monthly run", "score_monthly")
        assert json.loads(details)["purged"] == {"loan": 1}  # gone before the run read events
        assert person in _run_persons(store, run.run_id)
