"""Feature SQL: the one place the monthly features, outcomes and evidence queries are written.

Every query starts from :func:`known_events`: the events linked to a person as subject that had
occurred by the as-of date *and* been recorded by the watermark, with corrections applied (the
latest correction of an event wins: ``retract`` removes it, ``amend`` overrides the fields its
JSON names). Feature aggregates then run in one pass over those rows, grouped by person; the
contact-graph features join the counterparts' court listings and last month's scores.

Functions return text; :mod:`credo.scoring` runs it. The Spark dialect is snapshot-tested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from credo.features.catalogue import CATALOGUE, Ctx, Feature
from credo.features.dialect import Dialect, dialect
from credo.features.pit import PointInTime, months_before

__all__ = [
    "AMENDABLE",
    "enrolled_sql",
    "evidence_sql",
    "features_sql",
    "known_events",
    "listings_sql",
    "outcome_sql",
]

#: Fields an ``amend`` correction may change, with their SQL types (others stay as loaded).
AMENDABLE: dict[str, str] = {
    "amount": "DECIMAL(18,2)",
    "merchant_category": "TEXT",
    "bill_kind": "TEXT",
    "due_date": "DATE",
    "paid_date": "DATE",
    "loan_event": "TEXT",
    "days_past_due": "BIGINT",
    "returned_on_time": "BOOLEAN",
    "damage": "BOOLEAN",
    "unpaid_amount": "DECIMAL(18,2)",
    "satisfied_on": "DATE",
    "judgment_status": "TEXT",
    "attribute_value": "TEXT",
    "conduct_kind": "TEXT",
    "reported_by_media": "BOOLEAN",
}
_PLAIN = (
    "event_id",
    "event_type",
    "source",
    "source_record_id",
    "occurred_at",
    "recorded_at",
    "account_id",
    "attribute",
    "connection_action",
    "consent_action",
    "court",
    "case_number",
    "listed_on",
    "authority",
    "reference",
)
_HISTORY_TYPES = "('loan', 'bill', 'payment', 'rental')"


def _type(d: Dialect, sql_type: str) -> str:
    return d.text_type if sql_type == "TEXT" else sql_type


def known_events(
    d: Dialect,
    pit: PointInTime,
    event_types: Sequence[str],
    *,
    person: str | None = None,
    since: str | None = None,
) -> str:
    """A subquery: one row per known, corrected event of these types, with its subject."""
    end, known = d.timestamp(pit.end), d.timestamp(pit.known_at)
    types = ", ".join(d.string(t) for t in event_types)
    columns = [f"e.{c}" for c in _PLAIN]
    for name, sql_type in AMENDABLE.items():
        # Read the JSON only where there is an amendment: most events have none, and the guard
        # keeps the extraction (15 fields) off their rows. Same value: no amendment, no change.
        patched = f"CAST({d.json_field('c.amendment', name)} AS {_type(d, sql_type)})"
        columns.append(
            f"CASE WHEN c.amendment IS NULL THEN e.{name}"
            f" ELSE coalesce({patched}, e.{name}) END AS {name}"
        )
    who = f" AND s.person_id = {d.string(person)}" if person is not None else ""
    after = f" AND e.occurred_at >= {since}" if since is not None else ""
    return (
        "(\n    SELECT s.person_id, " + ", ".join(columns) + "\n    FROM events e\n"
        f"    JOIN event_persons s ON s.event_id = e.event_id AND s.role = 'subject'{who}\n"
        "    LEFT JOIN (\n"
        "      SELECT target_source, target_record_id, correction_action, amendment FROM (\n"
        "        SELECT target_source, target_record_id, correction_action, amendment,\n"
        "          row_number() OVER (PARTITION BY target_source, target_record_id\n"
        "            ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest\n"
        "        FROM events\n"
        f"        WHERE event_type = 'correction' AND occurred_at < {end}"
        f" AND recorded_at <= {known}\n"
        "      ) x WHERE latest = 1\n"
        "    ) c ON c.target_source = e.source AND c.target_record_id = e.source_record_id\n"
        f"    WHERE e.event_type IN ({types}) AND e.occurred_at < {end}"
        f" AND e.recorded_at <= {known}{after}\n"
        "      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')\n"
        "  )"
    )


def listings_sql(pit: PointInTime, *, dialect_name: str = "duckdb") -> str:
    """Court listings in force on the as-of date: the latest record of each case says listed,
    and no satisfaction date on or before the as-of date."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    return (
        "SELECT person_id, court, case_number, listed_on, event_id FROM (\n"
        "  SELECT k.person_id, k.court, k.case_number, k.listed_on, k.judgment_status,"
        " k.satisfied_on, k.event_id,\n"
        "    row_number() OVER (PARTITION BY k.person_id, k.court, k.case_number"
        " ORDER BY k.occurred_at DESC, k.event_id DESC) AS latest\n"
        f"  FROM {known_events(d, pit, ['court_judgment'])} k\n"
        ") l\n"
        "WHERE latest = 1 AND judgment_status = 'listed'"
        f" AND (satisfied_on IS NULL OR satisfied_on > {c.as_of})"
    )


def _activity(c: Ctx, features: Sequence[Feature], person: str | None) -> str:
    d = c.d
    history = f"k.event_type IN {_HISTORY_TYPES}"
    enrolment = c.latest("k.consent_action", "k.consent_action IN ('enrol', 'leave')")
    columns = [
        f"{enrolment} AS enrolment",
        f"{c.count(history)} AS history_events",
        f"{c.months_to_as_of(f'min(CASE WHEN {history} THEN k.occurred_at END)')}"
        " AS history_months",
    ]
    columns += [f"{f.expression(c)} AS {f.name}" for f in features if f.block == "activity"]
    types = ["loan", "bill", "payment", "rental", "attribute", "connection", "consent"]
    body = ",\n    ".join(columns)
    source = known_events(d, c.pit, types, person=person)
    return f"  SELECT k.person_id,\n    {body}\n  FROM {source} k\n  GROUP BY k.person_id"


def _previous(d: Dialect, previous_run: str | None) -> str:
    if previous_run is None:
        return (
            f"  SELECT CAST(NULL AS {d.text_type}) AS person_id, CAST(NULL AS DOUBLE) AS score"
            " FROM persons WHERE 1 = 0"
        )
    return f"  SELECT person_id, score FROM score_snapshots WHERE run_id = {d.string(previous_run)}"


def _edges(c: Ctx, person: str | None) -> str:
    source = known_events(c.d, c.pit, ["connection"], person=person)
    return (
        "  SELECT person_id, counterpart FROM (\n"
        "    SELECT k.person_id, o.person_id AS counterpart, k.connection_action,\n"
        "      row_number() OVER (PARTITION BY k.person_id, o.person_id"
        " ORDER BY k.occurred_at DESC, k.event_id DESC) AS latest\n"
        f"    FROM {source} k\n"
        "    JOIN event_persons o ON o.event_id = k.event_id AND o.role = 'counterpart'\n"
        "  ) x WHERE latest = 1 AND connection_action = 'added'"
        " AND person_id <> counterpart"
    )


def features_sql(
    pit: PointInTime,
    *,
    dialect_name: str = "duckdb",
    person: str | None = None,
    previous_run: str | None = None,
    features: Sequence[Feature] = CATALOGUE,
) -> str:
    """One row per enrolled, active person: ``person_id``, ``history_events``,
    ``history_months`` and one column per feature (catalogue order)."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    who = f" AND person_id = {d.string(person)}" if person is not None else ""
    outputs = ["p.person_id", "a.history_events", "a.history_months"]
    outputs += [
        f"{f.expression(c) if f.block == 'network' else 'a.' + f.name} AS {f.name}"
        for f in features
    ]
    return (
        "WITH\nactivity AS (\n"
        f"{_activity(c, features, person)}\n),\n"
        f"listed AS (\n  SELECT DISTINCT person_id FROM (\n"
        + "\n".join("  " + line for line in listings_sql(pit, dialect_name=d.name).splitlines())
        + "\n  ) l\n),\n"
        f"previous AS (\n{_previous(d, previous_run)}\n),\n"
        f"edges AS (\n{_edges(c, person)}\n),\n"
        "network AS (\n"
        "  SELECT e.person_id, count(*) AS contacts,\n"
        "    avg(pr.score) AS contacts_mean_score_last_month,\n"
        "    avg(CASE WHEN l.person_id IS NULL THEN 0.0 ELSE 1.0 END) AS contacts_listed_share\n"
        "  FROM edges e\n"
        "  LEFT JOIN previous pr ON pr.person_id = e.counterpart\n"
        "  LEFT JOIN listed l ON l.person_id = e.counterpart\n"
        "  GROUP BY e.person_id\n"
        "),\n"
        f"population AS (\n  SELECT person_id FROM persons WHERE status = 'active'{who}\n)\n"
        "SELECT\n  " + ",\n  ".join(outputs) + "\nFROM population p\n"
        "JOIN activity a ON a.person_id = p.person_id\n"
        "LEFT JOIN network n ON n.person_id = p.person_id\n"
        "WHERE a.enrolment = 'enrol'\n"
    )


def outcome_sql(
    observed: PointInTime, months: int, *, min_days_past_due: int = 90, dialect_name: str = "duckdb"
) -> str:
    """Per person, ``bad`` = 1 if a loan defaulted or reached ``min_days_past_due`` days past
    due in the ``months`` after the observation date (events after it only: the outcome window
    and the features never share an event)."""
    d = dialect(dialect_name)
    end = observed.as_of
    window = PointInTime(_add_months(end, months), observed.known_at, observed.retention_years)
    source = known_events(d, window, ["loan"], since=d.timestamp(observed.end))
    return (
        "SELECT k.person_id,\n"
        "  max(CASE WHEN k.loan_event = 'default'"
        f" OR coalesce(k.days_past_due, 0) >= {int(min_days_past_due)} THEN 1 ELSE 0 END) AS bad\n"
        f"FROM {source} k\nGROUP BY k.person_id\n"
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    return months_before(day, -months)


def evidence_sql(
    pit: PointInTime, person: str, feature_names: Sequence[str], *, dialect_name: str = "duckdb"
) -> str:
    """The events behind each named feature for one person: (feature, event_id, source,
    source_record_id, event_type, occurred_at)."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    chosen = [f for f in CATALOGUE if f.name in feature_names]
    types = ["loan", "bill", "payment", "rental", "attribute", "connection"]
    parts = [
        f"SELECT {d.string(f.name)} AS feature, k.event_id, k.source, k.source_record_id,"
        f" k.event_type, k.occurred_at FROM known k WHERE {f.evidence(c)}"
        for f in chosen
    ]
    body = "\nUNION ALL\n".join(parts)
    return (
        f"WITH known AS {known_events(d, pit, types, person=person)}\n"
        f"SELECT * FROM (\n{body}\n) x ORDER BY feature, occurred_at, event_id\n"
    )


def enrolled_sql(
    pit: PointInTime, *, person: str | None = None, dialect_name: str = "duckdb"
) -> str:
    """Active persons whose latest enrol/leave choice known at this point in time is enrol."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    enrolment = c.latest("k.consent_action", "k.consent_action IN ('enrol', 'leave')")
    source = known_events(d, pit, ["consent"], person=person)
    return (
        "SELECT k.person_id FROM "
        f"{source} k\n"
        "JOIN persons p ON p.person_id = k.person_id AND p.status = 'active'\n"
        f"GROUP BY k.person_id HAVING {enrolment} = 'enrol'\n"
    )
