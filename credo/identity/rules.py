"""The exact rule: the same verified national id is the same person.

It runs before the model and its links are certain (weight ∞). A number counts as verified when
it passes the GB 11643 check digit. Records sharing one agree on a date of birth up to a
day/month swap or a mistyped digit (a typo, not a conflict: ``births_agree``); records whose
dates truly differ are not linked but go to the review queue, with ``CONFLICT_REASON`` at the
head of the reason.

The same decryption gives every record its ``Traits`` (verified id, sex, date of birth), which
the clustering uses to keep contradicting records apart (decision 0301).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa

from credo.identifiers import is_valid_gb11643
from credo.identity.arrays import Ranks, origin_ranks
from credo.identity.cluster import Edge
from credo.identity.constraints import Traits, births_agree, sex_of_national_id
from credo.store.db import Store
from credo.store.rows import registered

__all__ = [
    "CONFLICT_REASON",
    "IdRule",
    "known_id_sexes",
    "national_id_rule",
    "persons_with_two_verified_ids",
]

CONFLICT_REASON = "same verified national id"


def known_id_sexes(store: Store) -> dict[str, str | None]:
    """What earlier runs found for each national id hash they saw: the sex its verified number
    states, or None (the number fails the check digit). Read from ``identity_records.id_sex``
    (decision 0305), so a run decrypts only the ids it has not seen."""
    found = store.con.execute(
        "SELECT national_id_hash, any_value(id_sex) FROM identity_records "
        "WHERE national_id_hash IS NOT NULL AND origin IS NOT NULL GROUP BY 1"
    ).fetchall()
    return {h: s for h, s in found}


def _verified_ids(
    store: Store, hashes: list[str], known: dict[str, str | None] | None = None
) -> dict[str, str]:
    """Hashes whose number passes the GB 11643 check digit (decrypted from the vault once),
    with the sex the number states; ``known`` answers for the hashes an earlier run saw."""
    out: dict[str, str] = {}
    if known:
        out = {h: s for h in hashes if (s := known.get(h, "")) is not None and s}
        hashes = [h for h in hashes if h not in known]
    if not hashes:
        return out
    con = store.con
    with registered(con, "credo_nid_hashes", pa.table({"hash": pa.array(hashes, pa.string())})):
        found = con.execute(
            "SELECT v.hash, any_value(v.ciphertext) FROM pii_vault v "
            "JOIN credo_nid_hashes h USING (hash) WHERE v.kind = 'national_id' GROUP BY v.hash"
        ).fetchall()
    decrypt = store.keys.decrypt
    numbers = ((h, decrypt("national_id", bytes(blob))) for h, blob in found)
    out.update({h: sex_of_national_id(n) for h, n in numbers if is_valid_gb11643(n)})
    return out


def _date_classes(dates: list[dt.date]) -> dict[dt.date, dt.date]:
    """Each date's class (its earliest member): dates joined by a chain of typos
    (``births_agree``) are one class, so a swap or a mistyped digit is not a conflict."""
    distinct = sorted(set(dates))
    parent = {d: d for d in distinct}

    def find(d: dt.date) -> dt.date:
        while parent[d] != d:
            d = parent[d]
        return d

    for i, a in enumerate(distinct):
        for b in distinct[i + 1 :]:
            if births_agree(a, b):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    return {d: find(d) for d in distinct}


def _shared_ids(records: pa.Table) -> dict[str, list[tuple[int, dt.date | None]]]:
    """Per national id hash, the records (index: row in ``records``, date of birth) that
    carry it."""
    groups: dict[str, list[tuple[int, dt.date | None]]] = defaultdict(list)
    for i, (nid, dob) in enumerate(
        zip(
            records.column("national_id_hash").to_pylist(),
            records.column("birth_date").to_pylist(),
            strict=True,
        )
    ):
        if nid is not None:
            groups[nid].append((i, dob))
    return groups


def _one_id(
    members: list[tuple[int, dt.date | None]], rank: Ranks | None = None
) -> tuple[list[Edge], list[tuple[int, int]]]:
    """The links and date conflicts among the records of one verified national id; records
    taken in ``rank`` order (their origins', free of the key) when given, else by index."""
    order = (lambda i: int(rank[i])) if rank is not None else (lambda i: i)
    classes = _date_classes([dob for _i, dob in members if dob is not None])
    by_class: dict[dt.date | None, list[int]] = defaultdict(list)
    for i, dob in members:
        by_class[classes[dob] if dob is not None else None].append(i)
    dated = sorted(
        (sorted(v, key=order) for k, v in by_class.items() if k is not None),
        key=lambda v: order(v[0]),
    )
    edges: list[Edge] = []
    for same in dated:  # records agreeing on the date (or a swap of it)
        edges += [Edge(same[0], j, "national_id", math.inf) for j in same[1:]]
    if len(dated) == 1 and None in by_class:  # undated records join the only date
        edges += [Edge(dated[0][0], j, "national_id", math.inf) for j in by_class[None]]
    elif not dated:
        undated = sorted(by_class[None], key=order)
        edges += [Edge(undated[0], j, "national_id", math.inf) for j in undated[1:]]
    conflicts = [(dated[k][0], dated[k + 1][0]) for k in range(len(dated) - 1)]
    return edges, conflicts


@dataclass(frozen=True)
class IdRule:
    """The rule's links, its date conflicts (for review) and every record's traits."""

    edges: list[Edge]
    conflicts: list[tuple[int, int]]
    traits: list[Traits]
    id_sex: list[str | None]  # per record: the sex its verified national id states, else None


_NOTHING = Traits()


def _traits(records: pa.Table, verified: dict[str, str]) -> list[Traits]:
    """Per record: its verified id, the sex the id states (else the one written), its date.
    Records that state none of them (most payments and bills) share one ``Traits``."""
    return [
        Traits(nid, verified[nid], dob)
        if nid in verified
        else (Traits(None, sex, dob) if sex is not None or dob is not None else _NOTHING)
        for nid, sex, dob in zip(
            records.column("national_id_hash").to_pylist(),
            records.column("sex").to_pylist(),
            records.column("birth_date").to_pylist(),
            strict=True,
        )
    ]


def national_id_rule(
    store: Store,
    records: pa.Table,
    known: dict[str, str | None] | None = None,
    rank: Ranks | None = None,
) -> IdRule:
    """Links by verified national id; pairs whose dates of birth conflict go to review.
    ``known``: what earlier runs found for the ids they saw (``known_id_sexes``); ``rank``:
    the records' places in the order of their origins (``origin_ranks``, computed if not
    given)."""
    groups = _shared_ids(records)
    if rank is None and "origin" in records.column_names:  # the order of origins, not of ids
        rank = origin_ranks(records.column("origin"))
    verified = _verified_ids(store, sorted(groups), known)
    edges: list[Edge] = []
    conflicts: list[tuple[int, int]] = []
    for h in sorted(groups):
        if h in verified and len(groups[h]) > 1:
            links, clashes = _one_id(groups[h], rank)
            edges += links
            conflicts += clashes
    id_sex = [verified.get(h) if h is not None else None
              for h in records.column("national_id_hash").to_pylist()]  # fmt: skip
    return IdRule(edges, conflicts, _traits(records, verified), id_sex)


def persons_with_two_verified_ids(store: Store) -> list[str]:
    """Resolved persons holding two different check-digit-valid national ids: the failure
    the clustering's constraints rule out (decision 0301), so a check for audits and tests."""
    held: dict[str, set[str]] = defaultdict(set)
    found = store.con.execute(
        "SELECT person_id, national_id_hash FROM identity_records "
        "WHERE national_id_hash IS NOT NULL ORDER BY person_id"
    ).fetchall()
    verified = _verified_ids(store, sorted({nid for _p, nid in found}))
    for person, nid in found:
        if nid in verified:
            held[person].add(nid)
    return sorted(p for p, ids in held.items() if len(ids) > 1)
