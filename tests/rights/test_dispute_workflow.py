"""The dispute workflow per rules profile (RULES R-FCRA-3, R-FCRA-5, R-FCRA-7, R-FCRA-8,
R-CRR-3, R-BL-4): new evidence extends the deadline once where the profile allows; a frivolous
determination needs reasons and says what to send; a removed item comes back only on the
furnisher's certification, and the person is told; every result is in the person's feed; a
decision against the person can be appealed within 10 days."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from credo.access import create_partner
from credo.errors import ConflictError, InputError
from credo.identity.records import retracted_sql
from credo.ingest.events import BillEvent, RentalEvent
from credo.rights.audited import append_event
from credo.rights.disputes import (
    STATEMENT_WORDS,
    add_evidence,
    appeal_dispute,
    complete_fixes,
    disputed_items,
    get_dispute,
    list_disputes,
    open_dispute,
    reinsert,
    resolve_dispute,
)
from credo.rights.file import feed
from credo.rights.furnishers import export_furnisher_notices, furnisher_notices
from credo.settings import Settings
from credo.store.audit import AuditEntry, verify
from credo.store.db import Store
from credo.store.rows import insert, rows

T0 = dt.datetime(2026, 9, 1, 9)


def _store(tmp_path: Path, profile: str) -> Store:
    store = Store.open(Settings(db=tmp_path / "credo.duckdb", rules_profile=profile))
    with store.write(AuditEntry("test", "person")) as con:
        insert(con, "persons", {"person_id": "P1", "created_at": dt.datetime(2020, 1, 1)})
    return store


def _bill(store: Store, ref: str = "B1") -> int:
    bill = BillEvent(source_record_id=ref, occurred_at=dt.datetime(2026, 6, 1), bill_kind="rent",
                     amount=Decimal("900.00"), due_date=dt.date(2026, 6, 10))  # fmt: skip
    with store.write(AuditEntry("test", "ingest")) as con:
        return append_event(
            con, bill, source="landlord", person_id="P1", recorded_at=dt.datetime(2026, 7, 1)
        )


def _results(store: Store) -> list[str]:
    return [a["text"] for a in feed(store, "P1") if a["kind"] == "dispute"]


def test_R_FCRA_3_new_evidence_extends_the_deadline_once_by_15_days(tmp_path: Path) -> None:
    with _store(tmp_path, "us-fcra") as store:
        d = open_dispute(store, "P1", _bill(store), "I paid on the due date", now=T0)
        assert d.due_at == T0 + dt.timedelta(days=30)
        d = add_evidence(store, "P1", d.dispute_id, "bank statement", now=T0 + dt.timedelta(10))
        assert d.due_at == T0 + dt.timedelta(days=45) and d.extended_at is not None
        d = add_evidence(store, "P1", d.dispute_id, "receipt", now=T0 + dt.timedelta(days=12))
        assert d.due_at == T0 + dt.timedelta(days=45)  # once only
        assert d.evidence == "bank statement\n\nreceipt"
        late = open_dispute(store, "P1", _bill(store, "B2"), "not mine", now=T0)
        late = add_evidence(store, "P1", late.dispute_id, "id card", now=T0 + dt.timedelta(31))
        assert late.due_at == T0 + dt.timedelta(days=30)  # after day 30: no extension


def test_R_CRR_3_new_evidence_gives_no_extension(tmp_path: Path) -> None:
    with _store(tmp_path, "cn-crr") as store:
        d = open_dispute(store, "P1", _bill(store), "I paid", now=T0)
        d = add_evidence(store, "P1", d.dispute_id, "statement", now=T0 + dt.timedelta(days=2))
        assert d.due_at == T0 + dt.timedelta(days=20) and d.extended_at is None
        with pytest.raises(InputError, match="field evidence"):
            add_evidence(store, "P1", d.dispute_id, "  ")


def test_R_FCRA_5_a_frivolous_determination_needs_reasons_and_says_what_to_send(
    tmp_path: Path,
) -> None:
    with _store(tmp_path, "us-fcra") as store:
        d = open_dispute(store, "P1", _bill(store), "wrong", now=T0)
        with pytest.raises(InputError, match="field note"):
            resolve_dispute(store, d.dispute_id, "frivolous", needed="a receipt")
        with pytest.raises(InputError, match="field needed"):
            resolve_dispute(store, d.dispute_id, "frivolous", note="no detail given")
        done = resolve_dispute(store, d.dispute_id, "frivolous", note="no detail given",
                               needed="the payment receipt", now=T0 + dt.timedelta(3))  # fmt: skip
        assert (done.status, done.needed) == ("frivolous", "the payment receipt")
        (text,) = _results(store)
        assert "frivolous" in text and "no detail given" in text and "payment receipt" in text
        assert verify(store.con).ok


def test_R_FCRA_8_every_closed_dispute_has_a_result_notice_in_the_feed(tmp_path: Path) -> None:
    with _store(tmp_path, "us-fcra") as store:
        closed = []
        for ref, decision in (("B1", "reject"), ("B2", "correct"), ("B3", "frivolous")):
            d = open_dispute(store, "P1", _bill(store, ref), "wrong", now=T0)
            at = T0 + dt.timedelta(days=5)
            closed.append(resolve_dispute(
                store, d.dispute_id, decision, action="retract", note="checked",  # type: ignore[arg-type]
                needed="a receipt", now=at))  # fmt: skip
        alerts = {a["ref"]: a for a in feed(store, "P1") if a["kind"] == "dispute"}
        assert set(alerts) == {d.dispute_id for d in closed}
        assert all(alerts[d.dispute_id]["at"] == d.resolved_at for d in closed)  # at once


def test_R_FCRA_7_reinsertion_needs_certification_and_tells_the_person(tmp_path: Path) -> None:
    with _store(tmp_path, "us-fcra") as store:
        d = open_dispute(store, "P1", _bill(store), "not mine", now=T0)
        with pytest.raises(ConflictError):
            reinsert(store, d.dispute_id, "accurate")  # nothing removed yet
        resolve_dispute(store, d.dispute_id, "expire", now=T0 + dt.timedelta(days=31))
        gone = rows(store.con, retracted_sql())
        assert [(r["source"], r["source_record_id"]) for r in gone] == [("landlord", "B1")]
        with pytest.raises(InputError, match="field certification"):
            reinsert(store, d.dispute_id, " ")
        # a source that loads files has no address on file: the operator must give one
        with pytest.raises(InputError, match="field furnisher_contact"):
            reinsert(store, d.dispute_id, "ledger checked by the landlord, 2026-10-05")
        assert len(rows(store.con, retracted_sql())) == 1  # refused: nothing changed
        contact = "Li Landlord, 8 Garden Road, Suining, phone 0825-5550123"
        back = reinsert(store, d.dispute_id, "ledger checked by the landlord, 2026-10-05",
                        furnisher_contact=contact)  # fmt: skip
        assert back.status == "reinserted" and back.furnisher_contact == contact
        assert rows(store.con, retracted_sql()) == []  # the item counts again
        (text,) = _results(store)
        assert "put back" in text and "landlord" in text and "statement" in text
        assert contact in text


def test_R_FCRA_7_a_partner_furnishers_address_on_file_is_named(tmp_path: Path) -> None:
    with _store(tmp_path, "us-fcra") as store:
        create_partner(store, "bikeco", "Bike Co", address="5 Wheel Lane, Austin, TX 78701",
                       phone="1-800-555-0142", agency="CFPB")  # fmt: skip
        rental = RentalEvent(source_record_id="R1", occurred_at=dt.datetime(2026, 8, 1),
                             partner="bikeco", item="bike", deposit="waived",
                             returned_on_time=False, damage=True)  # fmt: skip
        with store.write(AuditEntry("test", "outcome")) as con:
            event_id = append_event(con, rental, source="partner:bikeco", person_id="P1",
                                    recorded_at=dt.datetime(2026, 8, 2))  # fmt: skip
        d = open_dispute(store, "P1", event_id, "returned on time", now=T0)
        resolve_dispute(store, d.dispute_id, "expire", now=T0 + dt.timedelta(days=31))
        back = reinsert(store, d.dispute_id, "dock log certified by Bike Co")
        assert (
            back.furnisher_contact
            == "Bike Co, 5 Wheel Lane, Austin, TX 78701, phone 1-800-555-0142"
        )
        (text,) = _results(store)
        assert back.furnisher_contact in text


def test_R_BL_4_an_appeal_within_10_days_reopens_the_dispute_for_15_days(
    tmp_path: Path,
) -> None:
    with _store(tmp_path, "cn-crr") as store:
        d = open_dispute(store, "P1", _bill(store), "paid", now=T0)
        resolve_dispute(store, d.dispute_id, "reject", now=T0 + dt.timedelta(days=5))
        at = T0 + dt.timedelta(days=12)
        again = appeal_dispute(store, "P1", d.dispute_id, "the court's receipt", now=at)
        assert (again.status, again.due_at) == ("open", at + dt.timedelta(days=15))
        with pytest.raises(ConflictError):
            appeal_dispute(store, "P1", d.dispute_id, "twice", now=at)
        late = open_dispute(store, "P1", _bill(store, "B2"), "paid", now=T0)
        resolve_dispute(store, late.dispute_id, "reject", now=T0)
        with pytest.raises(ConflictError, match="more than 10 days"):
            appeal_dispute(store, "P1", late.dispute_id, "x", now=T0 + dt.timedelta(days=11))


def test_R_BL_4_a_correction_is_fixed_within_3_working_days_or_shown_overdue(
    tmp_path: Path,
) -> None:
    with _store(tmp_path, "cn-crr") as store:
        decided = dt.datetime(2026, 9, 3, 9)  # a Thursday: the weekend does not count
        due = dt.datetime(2026, 9, 8, 9)  # Fri 4, Mon 7, Tue 8
        kept = open_dispute(store, "P1", _bill(store, "B1"), "paid", now=T0)
        kept = resolve_dispute(store, kept.dispute_id, "reject", now=decided)
        assert kept.fix_due_at is None  # nothing to fix
        d = open_dispute(store, "P1", _bill(store, "B2"), "wrong amount", now=T0)
        # the re-score is left for later (as when it fails): the fix is due, not done
        d = resolve_dispute(store, d.dispute_id, "correct", amendment={"amount": "90.00"},
                            now=decided, rescore=False)  # fmt: skip
        assert (d.fix_due_at, d.fixed_at, d.fix_overdue) == (due, None, False)
        second = dt.timedelta(seconds=1)
        assert not get_dispute(store, d.dispute_id, now=due - second).fix_overdue
        assert get_dispute(store, d.dispute_id, now=due + second).fix_overdue
        listed = {x.dispute_id: x.fix_overdue for x in list_disputes(store, person_id="P1",
                                                                     now=due + second)}  # fmt: skip
        assert listed == {kept.dispute_id: False, d.dispute_id: True}

        (fixed,) = complete_fixes(store, actor="operator:wu", now=due + second)
        assert fixed.dispute_id == d.dispute_id and fixed.fixed_at == due + second
        assert not get_dispute(store, d.dispute_id, now=due + dt.timedelta(days=30)).fix_overdue
        assert complete_fixes(store) == []
        (entry,) = rows(store.con, "SELECT actor, details FROM audit_log"
                        " WHERE action = 'dispute.fixed'")  # fmt: skip
        assert entry["actor"] == "operator:wu"
        assert json.loads(entry["details"])["dispute_id"] == d.dispute_id

        # the usual path re-scores at once: fixed when decided
        now = open_dispute(store, "P1", _bill(store, "B3"), "not mine", now=T0)
        now = resolve_dispute(store, now.dispute_id, "correct", action="retract", now=decided)
        assert (now.fix_due_at, now.fixed_at) == (due, decided)
        assert verify(store.con).ok


def test_R_BL_4_an_appeal_is_decided_by_another_operator(tmp_path: Path) -> None:
    with _store(tmp_path, "cn-crr") as store:
        d = open_dispute(store, "P1", _bill(store), "paid", now=T0)
        resolve_dispute(store, d.dispute_id, "reject", actor="operator:lin", now=T0)
        appealed = appeal_dispute(store, "P1", d.dispute_id, "receipt", now=T0)
        assert appealed.first_decided_by == "operator:lin"
        with pytest.raises(ConflictError, match="another operator"):
            resolve_dispute(store, d.dispute_id, "reject", actor="operator:lin", now=T0)
        with pytest.raises(ConflictError, match="another operator"):
            resolve_dispute(store, d.dispute_id, "frivolous", note="n", needed="x",
                            actor="operator:lin", now=T0)  # fmt: skip
        assert get_dispute(store, d.dispute_id).status == "open"  # the refusals changed nothing
        done = resolve_dispute(store, d.dispute_id, "reject", actor="operator:wu", now=T0)
        assert (done.status, done.resolved_by, done.first_decided_by) == (
            "verified", "operator:wu", "operator:lin")  # fmt: skip


def test_R_FCRA_4_a_partner_that_furnished_the_item_is_told_of_the_dispute_at_once(
    tmp_path: Path,
) -> None:
    with _store(tmp_path, "us-fcra") as store:
        create_partner(store, "bikeco", "Bike Co", webhook_url="http://127.0.0.1:9/hook")
        rental = RentalEvent(source_record_id="R1", occurred_at=dt.datetime(2026, 8, 1),
                             partner="bikeco", item="bike", deposit="waived",
                             returned_on_time=False, damage=True)  # fmt: skip
        with store.write(AuditEntry("test", "outcome")) as con:
            event_id = append_event(con, rental, source="partner:bikeco", person_id="P1",
                                    recorded_at=dt.datetime(2026, 8, 2))  # fmt: skip
        d = open_dispute(store, "P1", event_id, "the bike was damaged before", "photo", now=T0)
        (message,) = rows(store.con, "SELECT partner_id, payload, created_at FROM webhook_outbox")
        payload = json.loads(message["payload"])
        assert (message["partner_id"], payload["type"], payload["dispute_id"]) == (
            "bikeco", "dispute", d.dispute_id)  # fmt: skip
        assert payload["evidence"] == "photo" and message["created_at"] == T0
        open_dispute(store, "P1", _bill(store), "wrong", now=T0)  # a file's item: no channel
        assert store.scalar("SELECT count(*) FROM webhook_outbox") == 1


def test_R_FCRA_17_dispute_states_mirror_metro_2_compliance_codes(tmp_path: Path) -> None:
    with _store(tmp_path, "us-fcra") as store:
        kept, fixed, gone = _bill(store, "B1"), _bill(store, "B2"), _bill(store, "B3")
        d1 = open_dispute(store, "P1", kept, "I paid on time", now=T0)
        d2 = open_dispute(store, "P1", fixed, "wrong amount", now=T0)
        d3 = open_dispute(store, "P1", gone, "not mine", now=T0)

        def codes() -> dict[str, str]:
            return {i["record_id"]: i["compliance_code"] for i in disputed_items(store, "P1")}

        assert codes() == {"B1": "XB", "B2": "XB", "B3": "XB"}  # under investigation
        later = T0 + dt.timedelta(days=3)
        resolve_dispute(store, d1.dispute_id, "reject", note="furnisher verified", now=later,
                        rescore=False)  # fmt: skip
        resolve_dispute(store, d2.dispute_id, "correct", amendment={"amount": "90.00"},
                        now=later, rescore=False)  # fmt: skip
        resolve_dispute(store, d3.dispute_id, "correct", action="retract", now=later,
                        rescore=False)  # fmt: skip
        # Verified, the person disagrees: XC. Corrected: XH. Removed: not reported at all.
        assert codes() == {"B1": "XC", "B2": "XH"}
        appeal_dispute(store, "P1", d1.dispute_id, "I still paid", now=later + dt.timedelta(2))
        assert codes()["B1"] == "XB"  # an appeal reopens the investigation


def test_R_FCRA_9_the_statement_of_dispute_stays_with_the_item_after_it_is_closed(
    tmp_path: Path,
) -> None:
    with _store(tmp_path, "us-fcra") as store:
        words = " ".join(f"w{i}" for i in range(150))
        d = open_dispute(store, "P1", _bill(store), words, now=T0)
        resolve_dispute(store, d.dispute_id, "reject", note="verified", now=T0,
                        rescore=False)  # fmt: skip
        (item,) = disputed_items(store, "P1")
        assert item["compliance_code"] == "XC" and item["dispute_id"] == d.dispute_id
        assert item["statement"].split() == words.split()[:STATEMENT_WORDS] == words.split()[:100]


def test_R_FCRA_4_a_furnisher_that_loads_files_gets_the_notice_in_its_export(
    tmp_path: Path,
) -> None:
    """A dispute of a landlord's bill (loaded from a file) queues the landlord's notice in the
    dispute's own transaction, due in 5 business days; the export hands it over once, with all
    the person sent and the landlord's own record id, audited."""
    with _store(tmp_path, "us-fcra") as store:
        friday = dt.datetime(2026, 9, 4, 9)
        d = open_dispute(store, "P1", _bill(store), "I paid on the due date", "bank statement",
                         now=friday)  # fmt: skip
        (queued,) = furnisher_notices(store, source="landlord", now=friday)
        assert queued["dispute_id"] == d.dispute_id and not queued["overdue"]
        assert queued["due_at"] == dt.datetime(2026, 9, 11, 9)  # 5 business days on
        assert furnisher_notices(store, now=dt.datetime(2026, 9, 12))[0]["overdue"]
        folder = tmp_path / "out"
        folder.mkdir()
        done = export_furnisher_notices(store, "landlord", folder, now=friday)
        assert done.notices == 1 and done.file is not None
        (line,) = Path(done.file).read_text(encoding="utf-8").splitlines()
        sent = json.loads(line)
        assert sent["record"] == {"source": "landlord", "record_id": "B1"}
        assert (sent["statement"], sent["evidence"]) == ("I paid on the due date", "bank statement")
        assert "P1" not in line  # the furnisher knows the record, not Credo's person id
        assert furnisher_notices(store, source="landlord") == []  # it leaves once
        assert export_furnisher_notices(store, "landlord", now=friday).notices == 0
        actions = [r["action"] for r in rows(store.con, "SELECT action FROM audit_log")]
        assert actions.count("furnisher_notices.export") == 2
        assert verify(store.con).ok
