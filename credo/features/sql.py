"""Feature SQL: the one place the monthly features, outcomes and evidence queries are written.

Every query reads *known* events: those linked to a person as subject that had occurred by the
as-of date *and* been recorded by the watermark, with corrections applied (the latest correction
of an event wins: ``retract`` removes it, ``amend`` overrides the fields its JSON names).
:func:`known_events` gives them for any types through the ``events`` view. The monthly features
read each event type's own table instead, in one pass per type: the columns that type's features
use, one join to ``event_persons``, one ``GROUP BY person_id`` computing all of that type's
aggregates (docs/decisions/0522-features-per-event-type.md). The passes are then joined per
person; the contact-graph features join the counterparts' court listings and last month's scores.

Functions return text; :mod:`credo.scoring` runs it. The Spark dialect is snapshot-tested.

One module, a little over 400 lines, on purpose: every query here reads known events through
the same point-in-time and corrections rules; split, a rule would be written in one file and
relied on in another.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from credo.errors import ConfigError
from credo.features.catalogue import CATALOGUE, FIRST_EVENT, Ctx, Feature
from credo.features.pit import PointInTime, months_before
from credo.sql import Dialect, dialect
from credo.store.schema import EVENT_TABLES, PROTECTED_TABLES

__all__ = [
    "AMENDABLE",
    "ASSETS_WITHHELD",
    "ASSET_ROWS",
    "LISTING_GRACE_MONTHS",
    "PASS_TYPES",
    "Steps",
    "asset_choice_sql",
    "enrolled_sql",
    "evidence_sql",
    "feature_steps",
    "features_sql",
    "known_events",
    "listings_sql",
    "outcome_sql",
    "restricted_sql",
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
#: Event types that make a credit history (``history_events``, ``history_months``).
_HISTORY = ("loan", "bill", "payment", "rental")
#: Event types the monthly run reads, one pass each; consent decides who is scored.
_PASSES = ("consent", *_HISTORY, "attribute", "connection")
PASS_TYPES: tuple[str, ...] = _PASSES
"""The event types read in one pass each (a pass may be read in parts: ``feature_steps``'s
``splits``)."""

ASSET_ROWS: dict[str, str] = {"bill": "k.bill_kind = 'tax'", "attribute": "k.attribute = 'vehicle'"}
"""Asset data by event type (RULES R-CRR-4, Regulation Art. 14: tax paid, property; the event
schema holds no income, deposit or securities field): where the rules profile asks for written
consent (``consents.assets_written``), a person's rows matching these count in no feature,
pass or file age unless their newest asset choice is ``grant_assets`` (decision 0691)."""

ASSETS_WITHHELD = True
"""Whether asset data is withheld without consent where no rules profile is at hand (the Spark
lake): the default profile's ``consents.assets_written`` (a test keeps them equal)."""


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
    fixed_by, fixed_known = d.timestamp(pit.corrections_end), d.timestamp(pit.corrections_known)
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
        f"        WHERE event_type = 'correction' AND occurred_at < {fixed_by}"
        f" AND recorded_at <= {fixed_known}\n"
        "      ) x WHERE latest = 1\n"
        "    ) c ON c.target_source = e.source AND c.target_record_id = e.source_record_id\n"
        f"    WHERE e.event_type IN ({types}) AND e.occurred_at < {end}"
        f" AND e.recorded_at <= {known}{after}\n"
        "      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')\n"
        "  )"
    )


def _corrections(d: Dialect, pit: PointInTime) -> str:
    """The latest correction of each corrected event known at this point in time."""
    end, known = d.timestamp(pit.corrections_end), d.timestamp(pit.corrections_known)
    return (
        "SELECT target_source, target_record_id, correction_action, amendment FROM (\n"
        "    SELECT target_source, target_record_id, correction_action, amendment,\n"
        "      row_number() OVER (PARTITION BY target_source, target_record_id\n"
        "        ORDER BY occurred_at DESC, recorded_at DESC, event_id DESC) AS latest\n"
        f"    FROM {EVENT_TABLES['correction']}\n"
        f"    WHERE occurred_at < {end} AND recorded_at <= {known}\n"
        "  ) x WHERE latest = 1"
    )


def _reads(texts: Sequence[str]) -> list[str]:
    """The event columns some SQL reads (``k.<column>``), in a fixed order."""
    found = {m for t in texts for m in re.findall(r"\bk\.(\w+)", t)}
    return sorted(found - {"event_id", "occurred_at", "person_id"})


def _known_of_type(
    d: Dialect,
    pit: PointInTime,
    event_type: str,
    columns: Sequence[str],
    *,
    corrections: str,
    person: str | None = None,
    role: str = "subject",
    ids: tuple[int | None, int | None] = (None, None),
) -> str:
    """A subquery: the known, corrected events of one type, read from that type's own table
    (no union view, only the ``columns`` used), with the person they are about in ``role``.
    ``corrections`` names the latest corrections (a CTE, or a parenthesised subquery).
    Written in the order a pass should run: the events meet their corrections first, then
    ``event_persons`` (the larger table) is probed with them (docs/decisions/0814).
    ``ids``: only the events with ``lo <= event_id < hi`` (None: no bound), one part of a
    split pass (docs/decisions/0816)."""
    end, known = d.timestamp(pit.end), d.timestamp(pit.known_at)
    lo, hi = ids
    part = "".join(
        f"e.event_id {op} {int(bound)} AND "
        for op, bound in ((">=", lo), ("<", hi))
        if bound is not None
    )
    select = ["s.person_id", "e.event_id", "e.occurred_at"]
    for name in columns:
        if name in AMENDABLE:
            # Read the JSON only where there is an amendment: most events have none.
            patched = f"CAST({d.json_field('c.amendment', name)} AS {_type(d, AMENDABLE[name])})"
            select.append(
                f"CASE WHEN c.amendment IS NULL THEN e.{name}"
                f" ELSE coalesce({patched}, e.{name}) END AS {name}"
            )
        else:
            select.append(f"e.{name}")
    who = f" AND s.person_id = {d.string(person)}" if person is not None else ""
    return (
        "(\n    SELECT " + ", ".join(select) + "\n"
        f"    FROM {EVENT_TABLES[event_type]} e\n"
        f"    LEFT JOIN {corrections} c\n"
        "      ON c.target_source = e.source AND c.target_record_id = e.source_record_id\n"
        f"    JOIN event_persons s ON s.event_id = e.event_id AND s.role = '{role}'{who}\n"
        f"    WHERE {part}e.occurred_at < {end} AND e.recorded_at <= {known}\n"
        "      AND (c.correction_action IS NULL OR c.correction_action <> 'retract')\n"
        "  )"
    )


LISTING_GRACE_MONTHS = 1
"""The grace a listing's notice gives before it counts where no rules profile is at hand: the
default profile's ``court_list.grace_months`` (a test keeps them equal; RULES R-BL-2)."""


def listings_sql(
    pit: PointInTime, *, dialect_name: str = "duckdb", grace_months: int = LISTING_GRACE_MONTHS
) -> str:
    """Court listings in force on the as-of date: the latest record of each case says listed,
    no satisfaction date on or before the as-of date, and the grace after the court's notice
    to the person (``grace_months`` from ``notice_served_on``, where the court gives the date)
    has run out by the as-of date: no listing counts before it (RULES R-BL-2)."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    graced = d.date(months_before(pit.as_of, grace_months))
    columns = [
        "case_number", "court", "judgment_status", "listed_on", "satisfied_on", "notice_served_on"
    ]  # fmt: skip
    corrections = f"(\n  {_corrections(d, pit)}\n    )"
    known = _known_of_type(d, pit, "court_judgment", columns, corrections=corrections)
    return (
        "SELECT person_id, court, case_number, listed_on, event_id FROM (\n"
        "  SELECT k.person_id, k.court, k.case_number, k.listed_on, k.judgment_status,"
        " k.satisfied_on, k.notice_served_on, k.event_id,\n"
        "    row_number() OVER (PARTITION BY k.person_id, k.court, k.case_number"
        " ORDER BY k.occurred_at DESC, k.event_id DESC) AS latest\n"
        f"  FROM {known} k\n"
        ") l\n"
        "WHERE latest = 1 AND judgment_status = 'listed'"
        f" AND (satisfied_on IS NULL OR satisfied_on > {c.as_of})"
        f" AND (notice_served_on IS NULL OR notice_served_on <= {graced})"
    )


def _pass_name(event_type: str) -> str:
    return f"{event_type}s"


def _pass(
    c: Ctx,
    event_type: str,
    features: Sequence[Feature],
    person: str | None,
    withhold_assets: bool = False,
    cuts: Sequence[int] = (),
) -> str:
    """One event type's pass: every aggregate over that type's known events, per person.
    ``withhold_assets``: leave out the :data:`ASSET_ROWS` of persons without asset consent (the
    consent pass then says who has it). ``cuts``: event ids at which the events are read in
    parts, each joined with ``event_persons`` on its own, all under the one ``GROUP BY``: each
    join's hash table then fits in memory and keeps its filter on the links' scan; the rows
    aggregated, and so every value, are the same (docs/decisions/0816)."""
    columns = [
        "count(*) AS events",
        # The file's age (spending regularity) reads the first event over every pass.
        "min(k.occurred_at) AS first_at",
    ]
    if event_type == "consent":
        enrolment = c.latest("k.consent_action", "k.consent_action IN ('enrol', 'leave')")
        columns.append(f"{enrolment} AS enrolment")
        if withhold_assets:
            assets = "k.consent_action IN ('grant_assets', 'revoke_assets')"
            columns.append(f"{c.latest('k.consent_action', assets)} AS assets")
    columns += [f"{f.expression(c)} AS {f.name}" for f in features]
    where = ""
    if withhold_assets and event_type in ASSET_ROWS:
        consented = f"SELECT person_id FROM {_pass_name('consent')} WHERE assets = 'grant_assets'"
        where = f"\n  WHERE NOT ({ASSET_ROWS[event_type]}) OR k.person_id IN ({consented})"
    read = _reads([*columns, where])
    bounds: list[int | None] = [None, *cuts, None]
    parts = [
        _known_of_type(
            c.d, c.pit, event_type, read, corrections="corrections", person=person, ids=ids
        )
        for ids in pairwise(bounds)
    ]
    source = parts[0]
    if len(parts) > 1:
        union = "\n    UNION ALL\n".join(f"    SELECT * FROM {p} p{i}" for i, p in enumerate(parts))
        source = f"(\n{union}\n  )"
    body = ",\n    ".join(columns)
    return f"  SELECT k.person_id,\n    {body}\n  FROM {source} k{where}\n  GROUP BY k.person_id"


def _activity(features: Sequence[Feature], c: Ctx) -> str:
    """The passes joined per scored person (a person is scored only with a consent row)."""
    first = _pass_name(_PASSES[0])
    history = [f"{_pass_name(t)}.first_at" for t in _HISTORY]
    every = [f"{_pass_name(t)}.first_at" for t in _PASSES]
    columns = [
        f"{first}.person_id",
        f"{first}.enrolment",
        " + ".join(f"coalesce({_pass_name(t)}.events, 0)" for t in _HISTORY) + " AS history_events",
        f"{c.months_to_as_of('least(' + ', '.join(history) + ')')} AS history_months",
        f"least({', '.join(every)}) AS {FIRST_EVENT.split('.')[1]}",
    ]
    columns += [f"{_pass_name(f.events)}.{f.name}" for f in features]
    joins = "".join(
        f"\n  LEFT JOIN {_pass_name(t)} ON {_pass_name(t)}.person_id = {first}.person_id"
        for t in _PASSES[1:]
    )
    return "  SELECT " + ",\n    ".join(columns) + f"\n  FROM {first}{joins}"


def _previous(d: Dialect, previous_run: str | None) -> str:
    if previous_run is None:
        return (
            f"  SELECT CAST(NULL AS {d.text_type}) AS person_id, CAST(NULL AS DOUBLE) AS score"
            " FROM persons WHERE 1 = 0"
        )
    return f"  SELECT person_id, score FROM score_snapshots WHERE run_id = {d.string(previous_run)}"


def _edges(c: Ctx, person: str | None) -> str:
    """Current contacts: per (person, counterpart), the latest connection event says added.
    A GROUP BY with ``arg_max``, not a window: no sort of the connection events."""
    source = _known_of_type(
        c.d, c.pit, "connection", ["connection_action"], corrections="corrections", person=person
    )
    latest = c.d.latest("k.connection_action", "k.occurred_at", "k.event_id")
    return (
        "  SELECT k.person_id, o.person_id AS counterpart\n"
        f"  FROM {source} k\n"
        "  JOIN event_persons o ON o.event_id = k.event_id AND o.role = 'counterpart'\n"
        "  WHERE o.person_id <> k.person_id\n"
        "  GROUP BY k.person_id, o.person_id\n"
        f"  HAVING {latest} = 'added'"
    )


@dataclass(frozen=True)
class Steps:
    """A query as named steps (its CTEs, in order) and a final SELECT. ``sql()`` is the one
    query; a runner may instead store some steps in tables first and pass their names, so that
    the engine holds one step at a time (see :func:`credo.scoring.runner.stepwise`).
    ``as_written``: steps whose joins are written in the order the engine should run them; a
    runner storing them keeps that order (docs/decisions/0814)."""

    steps: tuple[tuple[str, str], ...]
    final: str
    as_written: frozenset[str] = frozenset()

    def sql(self, tables: Mapping[str, str] | None = None) -> str:
        """The query; a step named in ``tables`` reads that table instead of computing."""
        stored = tables or {}
        parts = [
            f"{name} AS (\n  SELECT * FROM {stored[name]}\n)"
            if name in stored
            else f"{name} AS (\n{body}\n)"
            for name, body in self.steps
        ]
        return "WITH\n" + ",\n".join(parts) + "\n" + self.final

    def upto(self, name: str) -> Steps:
        """The steps up to and including ``name``, selecting all of it."""
        names = [n for n, _ in self.steps]
        return Steps(
            self.steps[: names.index(name) + 1], f"SELECT * FROM {name}\n", self.as_written
        )


def feature_steps(
    pit: PointInTime,
    *,
    dialect_name: str = "duckdb",
    person: str | None = None,
    previous_run: str | None = None,
    features: Sequence[Feature] = CATALOGUE,
    hold_restricted: bool = True,
    grace_months: int = LISTING_GRACE_MONTHS,
    withhold_assets: bool = False,
    splits: Mapping[str, Sequence[int]] | None = None,
) -> Steps:
    """:func:`features_sql` as steps: the latest corrections, one pass per event type, the
    passes joined per person, the contact graph, the population, then the final SELECT.
    ``hold_restricted``: leave out persons whose processing is restricted (every run does);
    only the explanation of a person's own recorded score to that person passes ``False``.
    ``withhold_assets``: asset data counts only for persons who consented to it (R-CRR-4; the
    rules profile's ``consents.assets_written``); persons without asset rows are unaffected.
    ``splits``: per event type of :data:`PASS_TYPES`, ascending event ids at which its pass
    reads its events in parts (one more part than ids), so that each part's join fits in
    memory; the rows are the same for any ids (docs/decisions/0816)."""
    cuts = _checked_splits(splits or {})
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    who = f" AND person_id = {d.string(person)}" if person is not None else ""
    activity = [f for f in features if f.block == "activity"]
    outputs = ["p.person_id", "a.history_events", "a.history_months"]
    outputs += [
        f"{f.expression(c) if f.block == 'network' else f.outer(c, 'a.' + f.name)} AS {f.name}"
        for f in features
    ]
    listings = listings_sql(pit, dialect_name=d.name, grace_months=grace_months)
    listed = "\n".join("  " + line for line in listings.splitlines())
    steps = [
        ("corrections", f"  {_corrections(d, pit)}"),
        *(
            (
                _pass_name(t),
                _pass(
                    c,
                    t,
                    [f for f in activity if f.events == t],
                    person,
                    withhold_assets,
                    cuts.get(t, ()),
                ),
            )
            for t in _PASSES
        ),
        ("activity", _activity(activity, c)),
        ("listed", f"  SELECT DISTINCT person_id FROM (\n{listed}\n  ) l"),
        ("previous", _previous(d, previous_run)),
        ("edges", _edges(c, person)),
        (
            "network",
            "  SELECT e.person_id, count(*) AS contacts,\n"
            "    avg(pr.score) AS contacts_mean_score_last_month,\n"
            f"    avg(CASE WHEN l.person_id IS NULL THEN {d.number('0.0')}"
            f" ELSE {d.number('1.0')} END)"
            " AS contacts_listed_share\n"
            "  FROM edges e\n"
            "  LEFT JOIN previous pr ON pr.person_id = e.counterpart\n"
            "  LEFT JOIN listed l ON l.person_id = e.counterpart\n"
            "  GROUP BY e.person_id",
        ),
        (
            "population",
            f"  SELECT person_id FROM persons WHERE status = 'active'{who}"
            + (f"\n    AND person_id NOT IN ({restricted_sql(d.name)})" if hold_restricted else ""),
        ),
    ]
    final = (
        "SELECT\n  " + ",\n  ".join(outputs) + "\nFROM population p\n"
        "JOIN activity a ON a.person_id = p.person_id\n"
        "LEFT JOIN network n ON n.person_id = p.person_id\n"
        "WHERE a.enrolment = 'enrol'\n"
    )
    # The passes' joins run as written: the type's events with their corrections build the hash
    # table, ``event_persons`` probes it (docs/decisions/0814).
    passes = frozenset(_pass_name(t) for t in _PASSES)
    return _unprotected(Steps(tuple(steps), final, passes))


def _checked_splits(splits: Mapping[str, Sequence[int]]) -> dict[str, tuple[int, ...]]:
    """The split points, refused unless each names a pass and ascends strictly (a repeated or
    descending id would give an empty part, or read an event twice)."""
    for event_type, ids in splits.items():
        if event_type not in _PASSES:
            raise ConfigError(
                f"no feature pass reads event type {event_type!r}",
                hint=f"split one of {', '.join(_PASSES)}",
            )
        if any(not isinstance(i, int) or isinstance(i, bool) for i in ids) or any(
            a >= b for a, b in pairwise(ids)
        ):
            raise ConfigError(
                f"the split points of the {event_type} pass must be ascending integer event"
                f" ids, not {list(ids)!r}",
                hint="each part reads lo <= event_id < hi between neighbouring points",
            )
    return {t: tuple(ids) for t, ids in splits.items()}


_PROTECTED = re.compile(r"\b(" + "|".join(PROTECTED_TABLES) + r")\b", re.IGNORECASE)


def _unprotected(steps: Steps) -> Steps:
    """Refuse feature SQL that names a protected table: protected attributes are never a
    model input, whatever a catalogue entry says (SPEC S11; tests/fairness/test_bureau.py)."""
    for name, body in (*steps.steps, ("final", steps.final)):
        found = _PROTECTED.search(body)
        if found:
            raise ConfigError(
                f"feature SQL step {name!r} reads the protected table {found.group(1)!r}",
                hint="protected attributes are read only by the fairness audit, never by features",
            )
    return steps


def features_sql(
    pit: PointInTime,
    *,
    dialect_name: str = "duckdb",
    person: str | None = None,
    previous_run: str | None = None,
    features: Sequence[Feature] = CATALOGUE,
    hold_restricted: bool = True,
    grace_months: int = LISTING_GRACE_MONTHS,
    withhold_assets: bool = False,
) -> str:
    """One row per enrolled, active person (not restricted, unless ``hold_restricted`` is
    false): ``person_id``, ``history_events``, ``history_months`` and one column per feature
    (catalogue order)."""
    return feature_steps(
        pit,
        dialect_name=dialect_name,
        person=person,
        previous_run=previous_run,
        features=features,
        hold_restricted=hold_restricted,
        grace_months=grace_months,
        withhold_assets=withhold_assets,
    ).sql()


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
    pit: PointInTime,
    person: str,
    feature_names: Sequence[str],
    *,
    dialect_name: str = "duckdb",
    withhold_assets: bool = False,
) -> str:
    """The events behind each named feature for one person: (feature, event_id, source,
    source_record_id, event_type, occurred_at). ``withhold_assets``: the person's asset rows
    counted in no feature (no consent where one is required), so none is shown as evidence."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    chosen = [f for f in CATALOGUE if f.name in feature_names]
    types = ["loan", "bill", "payment", "rental", "attribute", "connection"]
    withheld = {t: f" AND NOT ({ASSET_ROWS[t]})" if withhold_assets else "" for t in ASSET_ROWS}
    parts = [
        f"SELECT {d.string(f.name)} AS feature, k.event_id, k.source, k.source_record_id,"
        f" k.event_type, k.occurred_at FROM known k"
        f" WHERE k.event_type = {d.string(f.events)} AND ({f.evidence(c)})"
        + withheld.get(f.events, "")
        for f in chosen
    ]
    body = "\nUNION ALL\n".join(parts)
    return (
        f"WITH known AS {known_events(d, pit, types, person=person)}\n"
        f"SELECT * FROM (\n{body}\n) x ORDER BY feature, occurred_at, event_id\n"
    )


def asset_choice_sql(pit: PointInTime, person: str, *, dialect_name: str = "duckdb") -> str:
    """The person's newest asset-data choice known at this point in time (``grant_assets``,
    ``revoke_assets``, or NULL): what the consent pass's ``assets`` says of them."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    choice = c.latest("k.consent_action", "k.consent_action IN ('grant_assets', 'revoke_assets')")
    return f"SELECT {choice} FROM {known_events(d, pit, ['consent'], person=person)} k"


def restricted_sql(dialect_name: str = "duckdb") -> str:
    """Persons whose processing is restricted now (GDPR Art. 18, RULES R-GDPR-5; decision 0647):
    the latest action in ``restrictions`` is ``restrict``. A run holds them: no features, no
    snapshot, no ledger entry until the restriction is lifted. Read as the restrictions stand
    when the query runs, not as of the watermark: a restriction freezes processing from the
    moment it is asked, whatever the data's date."""
    d = dialect(dialect_name)
    latest = d.arg_max("r.action", "r.changed_at")
    return (
        f"SELECT r.person_id FROM restrictions r GROUP BY r.person_id HAVING {latest} = 'restrict'"
    )


def enrolled_sql(
    pit: PointInTime, *, person: str | None = None, dialect_name: str = "duckdb"
) -> str:
    """Active persons whose latest enrol/leave choice known at this point in time is enrol,
    less those whose processing is restricted now (:func:`restricted_sql`)."""
    d = dialect(dialect_name)
    c = Ctx(d, pit)
    enrolment = c.latest("k.consent_action", "k.consent_action IN ('enrol', 'leave')")
    source = known_events(d, pit, ["consent"], person=person)
    return (
        "SELECT k.person_id FROM "
        f"{source} k\n"
        "JOIN persons p ON p.person_id = k.person_id AND p.status = 'active'\n"
        f"WHERE k.person_id NOT IN ({restricted_sql(d.name)})\n"
        f"GROUP BY k.person_id HAVING {enrolment} = 'enrol'\n"
    )
