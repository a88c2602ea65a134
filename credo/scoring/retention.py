"""The retention engine (RULES R-FCRA-10, R-FCRA-11, R-CRR-1; docs/decisions/0644).

An adverse item (a bill paid 30 or more days late or never, a loan default or bankruptcy, a
rental with damage or an unpaid amount, the records of a court case no longer listed) ages out a
number of years (the profile's ``retention.adverse_years``; ``bankruptcy_years`` for a
bankruptcy) after its clock starts, and the clock is the profile's:

- ``occurrence``: the date of the item;
- ``first_delinquency``: the date of first delinquency plus ``delinquency_grace_days`` (FCRA:
  DOFD + 180 days), the due date a bill missed, the date a loan first fell past due;
- ``end_of_event``: the end of the bad act (China: five years from repayment, from the court's
  lifting of a listing); an act that has not ended has not started its clock.

**Never re-aged**: an item's purge date is the earliest the clock gives over every version of
it, as loaded and after each amendment, so a correction can bring the date forward, never push
it back (the property test holds this for any amendment).

``retention_run`` (audited) deletes every item whose purge date has passed, with the
corrections that target it and its links to persons: what is gone cannot reach features, the
person's file or a report. The deleted rows leave the file at its next rewrite (0643). The
monthly run calls it first (:func:`credo.scoring.monthly.score`, decision 0647), so no aged item
is scored; it lives with scoring for that reason (rights imports scoring, not the reverse).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from credo.features.sql import AMENDABLE
from credo.policy.rules import RetentionRules, active_rules
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import rows
from credo.store.schema import EVENT_TABLES

__all__ = [
    "RetentionReport",
    "clock_start",
    "is_adverse",
    "is_bankruptcy",
    "purge_date",
    "purge_dates",
    "register_end",
    "retention_run",
    "versions",
    "years_kept",
]

LATE_DAYS = 30
"""A bill paid this many days after its due date, or never, is adverse (as the features read
"bills 30 or more days past their due date")."""

Version = Mapping[str, Any]


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def is_adverse(v: Version) -> bool:
    """Whether this version of an event is an adverse item that retention ages out."""
    kind = v["event_type"]
    if kind == "bill":
        due, paid = _day(v.get("due_date")), _day(v.get("paid_date"))
        return due is not None and (paid is None or (paid - due).days >= LATE_DAYS)
    if kind == "loan":
        return v.get("loan_event") in ("default", "bankruptcy")
    if kind == "rental":
        return bool(v.get("damage")) or float(v.get("unpaid_amount") or 0) > 0
    return bool(kind == "court_judgment")


def _first_delinquency(v: Version) -> dt.date:
    occurred = _day(v["occurred_at"])
    assert occurred is not None
    kind = v["event_type"]
    if kind == "bill":
        return _day(v.get("due_date")) or occurred
    if kind == "loan" and v.get("days_past_due"):
        return occurred - dt.timedelta(days=int(v["days_past_due"]))
    if kind == "court_judgment":
        return _day(v.get("listed_on")) or occurred
    return occurred


def _end(v: Version) -> dt.date | None:
    """The end of the bad act, or ``None`` while it goes on."""
    kind = v["event_type"]
    if kind in ("bill", "loan"):
        return _day(v.get("paid_date"))
    if kind == "rental":
        return None if float(v.get("unpaid_amount") or 0) > 0 else _day(v["occurred_at"])
    # A court case: its end is given by the case's latest record (``case_ended_on``).
    return _day(v.get("case_ended_on"))


def is_bankruptcy(v: Version) -> bool:
    return bool(v["event_type"] == "loan" and v.get("loan_event") == "bankruptcy")


def years_kept(v: Version, rules: RetentionRules) -> int:
    """How long this version is kept once its clock starts: ``bankruptcy_years`` for a
    bankruptcy (FCRA: 10); for a court judgment ``adverse_years`` or the statute of
    limitations (``judgment_limitation_years``), whichever is longer (FCRA 605(a)(2));
    ``adverse_years`` for any other adverse item (FCRA: 7)."""
    if is_bankruptcy(v):
        return rules.bankruptcy_years
    if v["event_type"] == "court_judgment":
        return max(rules.adverse_years, rules.judgment_limitation_years)
    return rules.adverse_years


def clock_start(v: Version, rules: RetentionRules) -> dt.date | None:
    """When this version's retention clock starts under the profile (``None``: not yet). A
    court listing still in force never starts one: only the court ends it (R-BL-3). A
    bankruptcy's clock starts at its order (FCRA 605(a)(1): from the order for relief), not at
    a delinquency; under ``end_of_event`` at its discharge."""
    if v["event_type"] == "court_judgment" and _day(v.get("case_ended_on")) is None:
        return None
    if rules.clock == "occurrence" or (rules.clock == "first_delinquency" and is_bankruptcy(v)):
        return _day(v["occurred_at"])
    if rules.clock == "first_delinquency":
        return _first_delinquency(v) + dt.timedelta(days=rules.delinquency_grace_days)
    return _end(v)


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _months_after(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    first = dt.date(day.year + year, month + 1, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first.replace(day=min(day.day, last.day))


def register_end(v: Version) -> dt.date | None:
    """When a public register's record ends, from which the register keeps it
    ``public_register_months`` more: a court listing when the court lifts it (the list shows
    only listings in force), a bankruptcy at its discharge (``paid_date``; the insolvency
    register keeps it a fixed time after). ``None`` for a record not from a public register,
    or one the register still shows (a listing in force, a bankruptcy not discharged)."""
    if v["event_type"] == "court_judgment":
        return _day(v.get("case_ended_on"))
    if is_bankruptcy(v):
        return _day(v.get("paid_date"))
    return None


def purge_date(history: Iterable[Version], rules: RetentionRules) -> dt.date | None:
    """The day an item ages out: the earliest over its versions that are adverse (an amendment
    can only bring it forward), or ``None`` while no version's clock has started. Under
    ``public_register_cap`` (R-GDPR-4, the SCHUFA ruling) a copy of a public register's record
    goes ``public_register_months`` after the register's end, if that is sooner."""
    dates = []
    for v in history:
        if not is_adverse(v):
            continue
        start = clock_start(v, rules)
        if start is not None:
            dates.append(_years_after(start, years_kept(v, rules)))
        end = register_end(v) if rules.public_register_cap else None
        if end is not None:
            dates.append(_months_after(end, rules.public_register_months))
    return min(dates) if dates else None


def versions(original: Version, amendments: Iterable[Mapping[str, Any]]) -> list[Version]:
    """The item as loaded, then after each amendment in turn (amendable fields only)."""
    out: list[Version] = [dict(original)]
    for amendment in amendments:
        patch = {k: v for k, v in amendment.items() if k in AMENDABLE and v is not None}
        out.append({**out[-1], **patch})
    return out


@dataclass(frozen=True)
class RetentionReport:
    as_of: dt.date
    profile: str
    clock: str
    adverse_years: int
    purged: dict[str, int]
    """Items deleted, by event type."""
    corrections: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_ADVERSE_TYPES = ("bill", "loan", "rental", "court_judgment")
_COLUMNS = (
    "event_id", "event_type", "source", "source_record_id", "occurred_at", "due_date", "paid_date",
    "loan_event", "days_past_due", "damage", "unpaid_amount", "court", "case_number", "listed_on",
    "satisfied_on", "judgment_status",
)  # fmt: skip
_CANDIDATE_COLUMNS = (
    f"SELECT {', '.join(_COLUMNS)} FROM events e"
    f" WHERE event_type IN ({', '.join(repr(t) for t in _ADVERSE_TYPES)}) AND "
)
# Only what can be adverse in some version: adverse as loaded (is_adverse, in SQL) or amended
# since. Most bills are paid on time; the monthly run need not read them.
_ADVERSE_AS_LOADED = (
    f"coalesce((event_type = 'bill' AND due_date IS NOT NULL AND (paid_date IS NULL"
    f" OR date_diff('day', due_date, paid_date) >= {LATE_DAYS}))"
    " OR (event_type = 'loan' AND loan_event IN ('default', 'bankruptcy'))"
    " OR (event_type = 'rental' AND (coalesce(damage, false) OR coalesce(unpaid_amount, 0) > 0))"
    " OR event_type = 'court_judgment', false)"
)
# The two kinds as two branches, not one OR: with the EXISTS in the OR, DuckDB joined every
# candidate row to the corrections (five times the time of the rest of the query).
_CANDIDATES = (
    f"{_CANDIDATE_COLUMNS}{_ADVERSE_AS_LOADED}"
    f" UNION ALL {_CANDIDATE_COLUMNS}NOT {_ADVERSE_AS_LOADED}"
    " AND EXISTS (SELECT 1 FROM events_correction c WHERE c.correction_action = 'amend'"
    " AND c.target_source = e.source AND c.target_record_id = e.source_record_id)"
)


# The earliest date any clock of an item as loaded can start from (occurrence; a bill's due
# date; a loan's date less its days past due; a repayment or discharge): its purge date is at
# least its keep after this. A court record's end is read from its case's other records, so
# court records are always read.
_EARLIEST = (
    "least(CAST(occurred_at AS DATE), due_date, paid_date,"
    " CAST(occurred_at AS DATE) - CAST(least(greatest(coalesce(days_past_due, 0), 0), 100000)"
    " AS INTEGER))"
)
_AMENDED = (
    "EXISTS (SELECT 1 FROM events_correction c WHERE c.correction_action = 'amend'"
    " AND c.target_source = e.source AND c.target_record_id = e.source_record_id)"
)


def _kept_from(as_of: dt.date, months: int) -> str:
    """A clock started after this day has not run ``months`` by ``as_of``; a month's slack
    covers the days a month's end or a 29 February takes off a date."""
    try:
        day = _months_after(as_of, -months) + dt.timedelta(days=31)
    except (ValueError, OverflowError):  # before year 1 or after 9999: no clock started there
        day = dt.date.min if months > 0 else dt.date.max
    return f"DATE '{day.isoformat()}'"


def may_be_due_sql(as_of: dt.date, rules: RetentionRules) -> str:
    """A condition on an item as loaded (``events`` columns) that holds for every item whose
    purge date is on or before ``as_of``, and for few others: a court record; an item other
    than a bankruptcy whose clock can have run ``adverse_years``; a bankruptcy whose clock can
    have run ``bankruptcy_years``, or, under ``public_register_cap``, discharged
    ``public_register_months`` ago."""
    register = (
        f" OR coalesce(paid_date <= {_kept_from(as_of, rules.public_register_months)}, false)"
        if rules.public_register_cap
        else ""
    )
    return (
        "coalesce(event_type = 'court_judgment'"
        " OR (loan_event IS DISTINCT FROM 'bankruptcy'"
        f" AND {_EARLIEST} <= {_kept_from(as_of, 12 * rules.adverse_years)})"
        f" OR (loan_event = 'bankruptcy' AND ({_EARLIEST}"
        f" <= {_kept_from(as_of, 12 * rules.bankruptcy_years)}{register})), true)"
    )


def _typed_reads(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per adverse event type, a subquery of its own table with the candidate columns as the
    ``events`` view gives them: a column the type's table lacks is a NULL of the view's type."""
    view = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND table_name = 'events'"
        ).fetchall()
    )
    reads = {}
    for event_type in _ADVERSE_TYPES:
        table = EVENT_TABLES[event_type]
        have = {
            str(r[0])
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name ="
                " current_database() AND schema_name = 'main' AND table_name = ?",
                [table],
            ).fetchall()
        }
        # The table is the type (migration 17): its type is a constant, as the view gives it.
        columns = [
            f"'{event_type}' AS event_type"
            if c == "event_type"
            else c
            if c in have
            else f"CAST(NULL AS {view[c]}) AS {c}"
            for c in _COLUMNS
        ]
        reads[event_type] = f"(SELECT {', '.join(columns)} FROM {table})"
    return reads


def _due_candidates(
    as_of: dt.date, rules: RetentionRules, reads: Mapping[str, str] | None = None
) -> str:
    """What the monthly run reads: the candidates less the adverse items as loaded, never
    amended, that no clock can age out by ``as_of`` (at 10M events all but the ~1,000 court
    records of ~86,000, which took ~0.6 CPU-s of Python a run; decision 0981). Three branches,
    each a plain filter or a semi join, as in ``_CANDIDATES``. ``reads``
    (:func:`_typed_reads`): the first branch reads each type's own table under the same
    condition, which DuckDB then evaluates per type with the absent columns folded away, not
    over the view's union of all four (at 100M events ~4.2 → ~2.4 CPU-s; decision 0818)."""
    may = may_be_due_sql(as_of, rules)
    first = f"{_CANDIDATE_COLUMNS}{_ADVERSE_AS_LOADED} AND {may}"
    if reads is not None:
        first = " UNION ALL ".join(
            f"SELECT * FROM {reads[t]} e WHERE {_ADVERSE_AS_LOADED} AND {may}"
            for t in _ADVERSE_TYPES
        )
    return (
        f"{first}"
        f" UNION ALL {_CANDIDATE_COLUMNS}{_ADVERSE_AS_LOADED} AND NOT {may} AND {_AMENDED}"
        f" UNION ALL {_CANDIDATE_COLUMNS}NOT {_ADVERSE_AS_LOADED} AND {_AMENDED}"
    )


def _amendments(store: Store) -> dict[tuple[str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows(
        store.con,
        "SELECT target_source, target_record_id, amendment FROM events"
        " WHERE event_type = 'correction' AND correction_action = 'amend'"
        " AND amendment IS NOT NULL ORDER BY occurred_at, event_id",
    ):
        found[(r["target_source"], r["target_record_id"])].append(json.loads(r["amendment"]))
    return found


def _case_ends(items: list[dict[str, Any]]) -> None:
    """Give each court record its case's end: the latest record's satisfaction (or its date)
    once the case is no longer listed; ``None`` while it is."""
    cases: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        if item["event_type"] == "court_judgment":
            cases[(item["court"], item["case_number"])].append(item)
    for records in cases.values():
        latest = max(records, key=lambda r: (r["occurred_at"], r["event_id"]))
        ended = None
        if latest["judgment_status"] != "listed":
            ended = latest["satisfied_on"] or _day(latest["occurred_at"])
        for r in records:
            r["case_ended_on"] = ended


def purge_dates(store: Store, person_id: str) -> dict[int, dt.date | None]:
    """Each adverse item of the person (as subject) and the day it ages out under the active
    profile (``None``: its clock has not started); what the access export shows (R-GDPR-2)."""
    rules = active_rules(store.settings).retention
    items = rows(
        store.con,
        f"SELECT * FROM ({_CANDIDATES}) c WHERE c.event_id IN (SELECT event_id FROM"
        " event_persons WHERE person_id = ? AND role = 'subject')",
        [person_id],
    )
    cases = {(i["court"], i["case_number"]) for i in items if i["event_type"] == "court_judgment"}
    if cases:  # a case's end is read from all its records, not only the person's
        items += [
            r for r in rows(store.con, f"SELECT * FROM ({_CANDIDATES}) c"
                            " WHERE c.event_type = 'court_judgment'")
            if (r["court"], r["case_number"]) in cases
            and r["event_id"] not in {i["event_id"] for i in items}
        ]  # fmt: skip
    _case_ends(items)
    amendments = _amendments(store)
    mine = {int(e) for (e,) in store.con.execute(
        "SELECT event_id FROM event_persons WHERE person_id = ? AND role = 'subject'",
        [person_id]).fetchall()}  # fmt: skip
    out: dict[int, dt.date | None] = {}
    for item in items:
        if int(item["event_id"]) in mine:
            history = versions(item, amendments.get((item["source"], item["source_record_id"]), []))
            if any(is_adverse(v) for v in history):
                out[int(item["event_id"])] = purge_date(history, rules)
    return out


def due_items(store: Store, as_of: dt.date) -> list[dict[str, Any]]:
    """Every adverse item whose purge date is on or before ``as_of`` under the active profile."""
    rules = active_rules(store.settings).retention
    items = rows(store.con, _due_candidates(as_of, rules, _typed_reads(store.con)))
    _case_ends(items)
    amendments = _amendments(store)
    due = []
    for item in items:
        history = versions(item, amendments.get((item["source"], item["source_record_id"]), []))
        when = purge_date(history, rules)
        if when is not None and when <= as_of:
            due.append(item | {"purge_date": when})
    return due


def retention_run(store: Store, as_of: dt.date, *, actor: str = "retention") -> RetentionReport:
    """Delete every item past its purge date, in one audited write; what was done."""
    profile = active_rules(store.settings)
    due = due_items(store, as_of)
    purged: dict[str, int] = defaultdict(int)
    for item in due:
        purged[item["event_type"]] += 1
    ids = [int(i["event_id"]) for i in due]
    keys = [[i["source"], i["source_record_id"]] for i in due]
    rules = profile.retention
    details = {"as_of": as_of, "profile": profile.name, "clock": rules.clock,
               "adverse_years": rules.adverse_years, "bankruptcy_years": rules.bankruptcy_years,
               "purged": dict(purged)}  # fmt: skip
    with store.write(AuditEntry(actor, "retention.run", None, "retention", details)) as con:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE credo_purge AS SELECT unnest(?::BIGINT[]) AS event_id",
            [ids],
        )
        try:
            corrections = con.execute(
                "DELETE FROM events_correction WHERE [target_source, target_record_id]"
                " IN (SELECT unnest(?::VARCHAR[][]))",
                [keys],
            ).fetchall()[0][0]
            for table in EVENT_TABLES.values():
                con.execute(
                    f"DELETE FROM {table} WHERE event_id IN (SELECT event_id FROM credo_purge)"
                )
            con.execute(
                "DELETE FROM event_persons WHERE event_id IN (SELECT event_id FROM credo_purge)"
            )
        finally:
            con.execute("DROP TABLE IF EXISTS credo_purge")
    return RetentionReport(
        as_of, profile.name, profile.retention.clock, profile.retention.adverse_years,
        dict(purged), int(corrections),
    )  # fmt: skip
