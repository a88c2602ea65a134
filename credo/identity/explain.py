"""Why a person is who Credo says: their records, the links that joined them, the changes.

For the person's own file and for a "this isn't me" dispute: each source record linked to the
person (what the source said — identifier numbers only as "given", never their hashes), each
link that joined two of them (the rule, or the model's match weight with the weight of every
comparison: name, date of birth, phone, ...), and every merge or split the person went through.
The links are a spanning forest: exactly the evidence that holds the records together.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from credo.errors import NotFoundError
from credo.identity.linkage import COMPARISONS, level_weights
from credo.identity.linkage_model import LinkageModel
from credo.store.db import Store
from credo.store.rows import one, rows

__all__ = [
    "ComparisonWeight",
    "IdentityChange",
    "LinkEvidence",
    "PersonExplanation",
    "SourceRecord",
    "explain_person",
]


@dataclass(frozen=True)
class SourceRecord:
    record_id: str
    source: str
    subject_ref: str | None
    name: str | None
    birth_date: dt.date | None
    sex: str | None
    national_id_given: bool
    phone_given: bool
    address: str | None
    events: int


@dataclass(frozen=True)
class ComparisonWeight:
    comparison: str
    description: str
    level: str  # e.g. "same pinyin, any order", or "null" when a side is blank
    weight: float  # log2 Bayes factor this comparison added to the match weight


@dataclass(frozen=True)
class LinkEvidence:
    record_l: str
    record_r: str
    rule: str  # "model", "national_id" (exact rule), "review" (accepted) or "sole_name"
    match_weight: float | None
    comparisons: tuple[ComparisonWeight, ...]

    @property
    def reason(self) -> str:
        if self.rule == "national_id":
            return "the same verified national id number"
        if self.rule == "review":
            return "a reviewer accepted the match"
        if self.rule == "sole_name":
            return "a record with nothing but a name, and the only person with that name"
        return f"match weight {self.match_weight:.1f} at or above the match threshold"


@dataclass(frozen=True)
class IdentityChange:
    kind: str  # "merge" or "split"
    person_id: str
    other_person_ids: tuple[str, ...]
    changed_at: dt.datetime
    evidence: dict[str, object]


@dataclass(frozen=True)
class PersonExplanation:
    person_id: str
    status: str
    created_at: dt.datetime
    merged_into: str | None
    records: tuple[SourceRecord, ...]
    links: tuple[LinkEvidence, ...]
    changes: tuple[IdentityChange, ...] = field(default=())


def _level_names(store: Store) -> dict[str, dict[str, list[tuple[float, str]]]]:
    """Per model id, per comparison: (weight, level label), to name a stored weight's level."""
    out: dict[str, dict[str, list[tuple[float, str]]]] = {}
    for model_id, text in store.con.execute(
        "SELECT model_id, model FROM identity_models"
    ).fetchall():
        model = LinkageModel.from_json(str(text), f"stored model {model_id}")
        out[str(model_id)] = {
            name: [(w, label) for _g, (label, w) in levels.items()]
            for name, levels in level_weights(model.splink).items()
        }
    return out


def _label(levels: list[tuple[float, str]], weight: float) -> str:
    if weight == 0.0:
        return "null"
    best = min(levels, key=lambda t: abs(t[0] - weight), default=(0.0, "?"))
    return best[1]


def _changes(store: Store, person_id: str) -> tuple[IdentityChange, ...]:
    """Every merge or split ``person_id`` took part in, oldest first."""
    return tuple(
        IdentityChange(
            str(r["kind"]),
            str(r["person_id"]),
            tuple(r["other_person_ids"]),
            r["changed_at"],
            json.loads(str(r["evidence"])),
        )
        for r in rows(
            store.con,
            "SELECT kind, person_id, other_person_ids, evidence, changed_at FROM identity_changes "
            "WHERE person_id = ? OR list_contains(other_person_ids, ?) ORDER BY change_id",
            [person_id, person_id],
        )
    )


def _records(store: Store, person_id: str) -> tuple[SourceRecord, ...]:
    """The person's source records, each with how many events it carries."""
    from credo.identity.records import event_record_key_sql

    found = rows(
        store.con,
        f"""
        WITH mine AS (SELECT * FROM identity_records WHERE person_id = ?),
        counts AS (
            SELECT {event_record_key_sql()} AS record_id, count(*) AS n
            FROM events
            WHERE source IN (SELECT DISTINCT source FROM mine)
            GROUP BY 1
        )
        SELECT m.record_id, m.source, m.subject_ref, m.name, m.birth_date, m.sex,
               m.national_id_hash IS NOT NULL AS national_id_given,
               m.phone_hash IS NOT NULL AS phone_given, m.address,
               coalesce(c.n, 0) AS events
        FROM mine m LEFT JOIN counts c USING (record_id)
        ORDER BY m.source, m.first_seen_at, m.record_id
        """,
        [person_id],
    )
    return tuple(SourceRecord(**r) for r in found)


def _links(store: Store, person_id: str) -> tuple[LinkEvidence, ...]:
    """The links that hold the person's records together, each comparison's level named."""
    names = _level_names(store)
    descriptions = {c.name: c.description for c in COMPARISONS}
    links = []
    for r in rows(
        store.con,
        "SELECT l.record_l, l.record_r, l.rule, l.match_weight, l.comparisons, l.model_id "
        "FROM identity_links l JOIN identity_records r ON r.record_id = l.record_l "
        "WHERE r.person_id = ? ORDER BY l.match_weight DESC NULLS FIRST, l.record_l, l.record_r",
        [person_id],
    ):
        comparisons, weight = r["comparisons"], r["match_weight"]
        weights = json.loads(str(comparisons)) if comparisons is not None else {}
        levels = names.get(str(r["model_id"]), {})
        links.append(
            LinkEvidence(
                str(r["record_l"]),
                str(r["record_r"]),
                str(r["rule"]),
                None if weight is None else float(weight),
                tuple(
                    ComparisonWeight(
                        name, descriptions.get(name, name), _label(levels.get(name, []), w), w
                    )
                    for name, w in weights.items()
                    if w is not None  # a pair the model never scored (a sole-name link)
                ),
            )
        )
    return tuple(links)


def explain_person(store: Store, person_id: str) -> PersonExplanation:
    """The records, links and identity changes behind ``person_id``."""
    person = one(
        store.con, "SELECT status, created_at FROM persons WHERE person_id = ?", [person_id]
    )
    if person is None:
        raise NotFoundError(f"no person {person_id!r}")
    changes = _changes(store, person_id)
    merged_into = next(
        (c.person_id for c in reversed(changes) if c.kind == "merge" and c.person_id != person_id),
        None,
    )
    return PersonExplanation(
        person_id=person_id,
        status=str(person["status"]),
        created_at=person["created_at"],
        merged_into=merged_into,
        records=_records(store, person_id),
        links=_links(store, person_id),
        changes=changes,
    )
