"""The exact rule: the same verified national id is the same person.

It runs before the model and its links are certain (weight ∞). A number counts as verified when
it passes the GB 11643 check digit. Records sharing one agree on a date of birth up to a
day/month swap or a mistyped digit (a typo, not a conflict: ``births_agree``); records whose
dates truly differ are not linked but go to the review queue, with ``CONFLICT_REASON`` at the
head of the reason.

The same decryption gives every record its ``Traits`` (verified id, sex, date of birth), which
the clustering uses to keep contradicting records apart (decision 0301); they are kept as
columns (``TraitColumns``, decision 0128).
"""

from __future__ import annotations

import datetime as dt
import math
from array import array
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from credo.identifiers import is_valid_gb11643
from credo.identity.arrays import Ranks, TraitColumns, origin_ranks
from credo.identity.cluster import Edge, Links
from credo.identity.constraints import births_agree, sex_of_national_id
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

    edges: Links  # in the order the rule found them (by id hash); ``in_link_order`` sorts
    conflicts: list[tuple[int, int]]
    traits: TraitColumns
    id_sex: pa.Array  # per record: the sex its verified national id states, else null


def _column(records: pa.Table, name: str) -> pa.Array:
    return records.column(name).combine_chunks()


def national_id_rule(
    store: Store,
    records: pa.Table,
    known: dict[str, str | None] | None = None,
    rank: Ranks | None = None,
) -> IdRule:
    """Links by verified national id; pairs whose dates of birth conflict go to review.
    ``known``: what earlier runs found for the ids they saw (``known_id_sexes``); ``rank``:
    the records' places in the order of their origins (``origin_ranks``, computed if not
    given).

    The records' columns stay in Arrow and numpy (decision 0128): Python objects are made per
    national id that several records share, one id at a time, never per record."""
    nid = _column(records, "national_id_hash").cast(pa.string())
    if rank is None and "origin" in records.column_names:  # the order of origins, not of ids
        rank = origin_ranks(records.column("origin"))
    hashes = sorted(pc.unique(nid.drop_null()).to_pylist())
    verified = _verified_ids(store, hashes, known)
    del hashes
    ordered = sorted(verified)
    code = pc.index_in(nid, value_set=pa.array(ordered, pa.string()))
    id_sex = pc.take(pa.array([verified[h] for h in ordered], pa.string()), code)
    codes = pc.fill_null(code.cast(pa.int32()), -1).to_numpy(zero_copy_only=False)
    traits = TraitColumns(
        codes,
        pa.array(ordered, pa.string()),
        pc.coalesce(id_sex, _column(records, "sex").cast(pa.string())),
        _column(records, "birth_date"),
    )
    del verified, ordered
    left, right = array("i"), array("i")
    conflicts: list[tuple[int, int]] = []
    for members in _shared(codes):  # by id hash, as sorted; each id's records by index
        links, clashes = _one_id([(i, traits.birth_of(i)) for i in members], rank)
        left.extend(e.left for e in links)
        right.extend(e.right for e in links)
        conflicts += clashes
    edges = Links(
        np.frombuffer(left, np.int32) if left else np.empty(0, np.int32),
        np.frombuffer(right, np.int32) if right else np.empty(0, np.int32),
        np.full(len(left), math.inf),
        "national_id",
    )
    return IdRule(edges, conflicts, traits, id_sex)


def _shared(codes: npt.NDArray[np.int32]) -> Iterator[list[int]]:
    """The records of each verified id (``codes``: per record, -1 for none) that more than one
    record carries, ids in code order, each id's records by index."""
    members = np.flatnonzero(codes >= 0)
    members = members[np.argsort(codes[members], kind="stable")]
    grouped = codes[members]
    starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    ends = np.append(starts[1:], len(members))
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if e - s > 1:
            yield members[s:e].tolist()


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
