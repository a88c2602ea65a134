"""The server's decision reads from memory (``CachedReads``) answer what the store answers, after
any sequence of the writes the service makes between decisions: a property, on a real database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
from collections import deque
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.access import create_partner
from credo.ingest.events import RentalEvent
from credo.rights import freeze, record_consent, unfreeze
from credo.rights.audited import append_event
from credo.rights.decisions import CachedReads, Reads
from credo.rights.erasure import lift_restriction, restrict
from credo.rights.fraud_alerts import alerts_in_force, place_alert, remove_alert
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store

from .conftest import scored_persons

PARTNERS = ("skyair", "seaair")
US_CONTACT = {"address": "1 Main St, Springfield", "agency": "CFPB, Washington DC 20552"}
PURPOSES = ("rental", "travel")
_partners = itertools.count()

person = st.integers(0, 3)
write = st.one_of(
    st.tuples(
        st.sampled_from(["grant", "revoke"]),
        person,
        st.sampled_from(PARTNERS),
        st.sampled_from(PURPOSES),
    ),
    st.tuples(
        st.sampled_from(
            [
                "freeze",
                "unfreeze",
                "dispute",
                "rescore",
                "restrict",
                "lift",
                "alert",
                "unalert",
                "outcome",
            ]
        ),
        person,
    ),
    st.just(("partner",)),
)


def _same(cached: CachedReads, direct: Reads, persons: list[str]) -> None:
    for p in persons:
        for partner, purpose in itertools.product(PARTNERS, PURPOSES):
            assert cached.consent(p, partner, purpose) == direct.consent(p, partner, purpose)
        assert cached.frozen(p) == direct.frozen(p)
        assert cached.restricted(p) == direct.restricted(p)
        assert cached.born(p) == direct.born(p)
        assert cached.alerts(p) == direct.alerts(p)
        snap = direct.snapshot(p)
        assert cached.snapshot(p) == snap
        assert cached.disputed(p) == direct.disputed(p)
        if snap is not None:
            assert cached.factors(p, snap.run_id) == direct.factors(p, snap.run_id)
    for partner in PARTNERS:
        assert cached.max_factors(partner) == direct.max_factors(partner)


def _apply(store: Store, op: tuple[object, ...], persons: list[str]) -> None:
    from credo.rights.disputes import open_dispute

    kind = op[0]
    if kind == "partner":  # a write that changes nothing decisions read
        create_partner(store, f"other{next(_partners)}", "Other")
        return
    p = persons[int(op[1])]  # type: ignore[call-overload]
    if kind in ("grant", "revoke"):
        record_consent(store, p, kind, partner=str(op[2]), purpose=str(op[3]))  # type: ignore[arg-type]
    elif kind == "freeze":
        freeze(store, p)
    elif kind == "unfreeze":
        unfreeze(store, p)
    elif kind == "restrict":
        restrict(store, p)
    elif kind == "lift":
        lift_restriction(store, p)
    elif kind == "alert":
        place_alert(store, p, "initial")
    elif kind == "unalert":
        for alert in alerts_in_force(store, p):
            remove_alert(store, p, alert.alert_id)
    elif kind == "outcome":  # a partner's outcome whose records outvote the birth date on file
        given = store.scalar(
            "SELECT count(*) FROM events e JOIN event_persons ep ON ep.event_id = e.event_id"
            " AND ep.role = 'subject' WHERE ep.person_id = ? AND e.birth_date IS NOT NULL",
            [p],
        )
        event = RentalEvent(
            source_record_id=f"out{next(_partners)}", occurred_at=dt.datetime(2026, 1, 5),
            birth_date=dt.date(1950, 1, 1), partner="skyair", item="car", deposit="waived",
            returned_on_time=True,
        )  # fmt: skip
        entry = AuditEntry("partner:skyair", "outcome", f"person:{p}", "partner feedback")
        with store.write(entry) as con:
            for n in range(int(given or 0) + 1):
                copy = event.model_copy(
                    update={"source_record_id": f"{event.source_record_id}-{n}"}
                )
                append_event(
                    con, copy, source="partner:skyair", person_id=p,
                    recorded_at=dt.datetime(2026, 1, 6),
                )  # fmt: skip
    elif kind == "dispute":
        free = store.con.execute(
            "SELECT e.event_id FROM events e JOIN event_persons ep ON ep.event_id = e.event_id"
            " AND ep.role = 'subject' WHERE ep.person_id = ? AND e.event_type = 'payment'"
            " AND e.event_id NOT IN (SELECT event_id FROM disputes WHERE status = 'open')"
            " ORDER BY e.event_id LIMIT 1",
            [p],
        ).fetchall()
        if free:
            open_dispute(store, p, int(free[0][0]), "not mine")
    else:  # a write not about one person (here: a score changed by hand): reload everything
        with store.write(AuditEntry("test", "score.adjust", f"person:{p}", "test")) as con:
            con.execute(
                "UPDATE score_snapshots SET score = score + 7, reason_codes = ['X1']"
                " WHERE person_id = ?",
                [p],
            )


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(ops=st.lists(write, min_size=1, max_size=8))
def test_cached_reads_answer_as_the_store_does_after_any_writes(
    scored_db: Path, ops: list[tuple[object, ...]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:  # each example on its own copy
        db = Path(tmp) / "credo.duckdb"
        shutil.copy(scored_db, db)
        shutil.copy(scored_db.with_suffix(".key"), db.with_suffix(".key"))
        _check(db, ops)


def _check(db: Path, ops: list[tuple[object, ...]]) -> None:
    persons = scored_persons(db, 4)
    with Store.open(Settings(db=db)) as store:
        for partner, jurisdiction in zip(PARTNERS, ("us-fcra", None), strict=True):
            if not store.scalar("SELECT count(*) FROM partners WHERE partner_id = ?", [partner]):
                create_partner(store, partner, partner, jurisdiction=jurisdiction, **US_CONTACT)
        cached, direct = CachedReads(store), Reads(store)
        _same(cached, direct, persons)  # loaded now; every write below must reach it
        for op in ops:
            _apply(store, op, persons)
            _same(cached, direct, persons)


def test_more_writes_than_the_store_keeps_reload_everything(db: Path) -> None:
    p = scored_persons(db, 1)[0]
    with Store.open(Settings(db=db)) as store:
        create_partner(store, "skyair", "Sky Air")
        store.writes = deque(maxlen=8)  # a store that keeps its last 8 writes
        cached = CachedReads(store)
        assert cached.consent(p, "skyair", "rental") is None
        ref = record_consent(store, p, "grant", partner="skyair", purpose="rental").consent_id
        for i in range(8):  # pushes the grant out of what is kept
            create_partner(store, f"filler{i}", "Filler")
        assert cached.consent(p, "skyair", "rental") == ref
