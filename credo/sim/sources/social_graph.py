"""social_graph: contact-list changes from an app (Parquet), subjects known only by phone.

Quirks: the owner and the contact are identified by phone number ("msisdn"); the contact's
name is whatever the owner saved it as — the full name, a nickname (老王, 王姐), the given
name, pinyin, or nothing; ADD/DEL codes; times as Parquet timestamps.

The graph has homophily in latent creditworthiness, as the connections dimension assumes:
most of a person's contacts are drawn from people of similar latent rank, some from the same
city, a few from anyone. Mean degree is about 11. Each friendship appears in one or both
contact lists; a few contacts are deleted later in the window.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from credo.sim.context import Context, order_by
from credo.sim.draws import IntArray
from credo.sim.frame import SourceFrame
from credo.sim.noise import Identifiers
from credo.sim.persons import ObjArray, Persons
from credo.sim.places import REGIONS

__all__ = ["build", "friendships"]

_STUBS_MEAN = 5.0  # edges started per person; each edge adds one to both ends' degree
_LOCAL, _SAME_CITY = 0.6, 0.25  # shares of edges by how the other end is chosen


def friendships(persons: Persons, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """Undirected edges (a < b), sorted, without duplicates or self-loops."""
    n = persons.n
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    stubs = 1 + rng.poisson((_STUBS_MEAN - 1) * persons.contact_rate, size=n)
    src = np.repeat(np.arange(n), stubs)
    m = len(src)
    by_latent = np.argsort(persons.latent, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_latent] = np.arange(n)
    width = max(2, n // 25)
    offset = rng.integers(1, width + 1, size=m) * rng.choice([-1, 1], size=m)
    local = by_latent[np.clip(rank[src] + offset, 0, n - 1)]
    city = np.array([REGIONS[r].city for r in persons.home.tolist()])
    by_city = np.argsort(city, kind="stable")
    _, first, size = np.unique(city[by_city], return_index=True, return_counts=True)
    city_id = np.searchsorted(np.unique(city), city)
    pick = first[city_id[src]] + (rng.random(m) * size[city_id[src]]).astype(np.int64)
    same_city = by_city[pick]
    anyone = rng.integers(0, n, size=m)
    how = rng.random(m)
    dst = np.where(how < _LOCAL, local, np.where(how < _LOCAL + _SAME_CITY, same_city, anyone))
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    keep = a != b
    key = np.unique(a[keep] * n + b[keep])
    return (key // n).astype(np.int64), (key % n).astype(np.int64)


def _aliases(p: Persons, contact: IntArray, rng: np.random.Generator) -> ObjArray:
    """How owners saved each contact: full name mostly, else a nickname, given name, pinyin."""
    how = rng.random(len(contact))
    out = np.empty(len(contact), dtype=object)
    for k, (c, h) in enumerate(zip(contact.tolist(), how.tolist(), strict=True)):
        fam, giv = str(p.family[c]), str(p.given[c])
        if h < 0.55:
            out[k] = fam + giv if p.chinese[c] else f"{giv} {fam}"
        elif h < 0.7 and p.chinese[c]:
            out[k] = ("老" + fam, fam + ("姐" if p.female[c] else "哥"), fam + "总")[k % 3]
        elif h < 0.8:
            out[k] = giv
        elif h < 0.9:
            out[k] = f"{p.family_latin[c]} {p.given_latin[c]}"
        else:
            out[k] = None
    return out


def _lists(ctx: Context, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """Every contact-list entry (owner, contact) of the whole population, drawn once by the
    first slice and kept for the others, so friendships cross slices (decision 0970)."""
    if "social_graph.lists" not in ctx.carry:
        a, b = friendships(ctx.everyone, rng)
        both = rng.random(len(a)) < 0.7
        a_lists = both | (rng.random(len(a)) < 0.5)
        owner = np.concatenate([a[a_lists], b[both | ~a_lists]])
        contact = np.concatenate([b[a_lists], a[both | ~a_lists]])
        ctx.carry["social_graph.lists"] = owner, contact
    owner, contact = ctx.carry["social_graph.lists"]
    mine = (owner >= ctx.first_person) & (owner < ctx.first_person + ctx.persons.n)
    return owner[mine] - ctx.first_person, contact[mine]


def build(ctx: Context) -> SourceFrame:
    """Rows of the slice's owners; ``owner`` indexes the slice, ``contact`` the population."""
    rng = ctx.rng("social_graph")
    p, w, everyone = ctx.persons, ctx.window, ctx.everyone
    owner, contact = _lists(ctx, rng)
    added = w.times_on(rng, w.random_days(rng, len(owner)))
    on_file = p.arrived(owner, added.astype("datetime64[D]"))  # the owner's file is open
    owner, contact, added = owner[on_file], contact[on_file], added[on_file]
    removed = rng.random(len(owner)) < 0.06
    gap = (w.last_second - added).astype(np.int64)
    removed_at = added + (rng.random(len(owner)) * gap).astype(np.int64).astype("timedelta64[s]")
    removed &= removed_at > added
    owner = np.concatenate([owner, owner[removed]])
    contact = np.concatenate([contact, contact[removed]])
    op = np.concatenate(
        [np.full(len(added), "ADD", dtype=object), np.full(int(removed.sum()), "DEL", dtype=object)]
    )
    when = np.concatenate([added, removed_at[removed]])
    order = order_by(when, owner, contact)
    owner, contact, op, when = owner[order], contact[order], op[order], when[order]
    n = len(owner)

    day = when.astype("datetime64[D]")
    ident = ctx.identifiers(owner, day, rng)
    # the contact's number as the owner saved it: the second phone for some
    their = Identifiers(everyone, contact, day, ctx.config, ctx.ledger, rng)
    return SourceFrame(
        source="social_graph",
        file_name="contacts.parquet",
        format="parquet",
        columns={
            "edge_id": [f"E{ctx.first_row + k + 1:011d}" for k in range(n)],
            "owner_msisdn": ident.phone(missing=False),
            "owner_name": ident.name("native", missing=True),
            "contact_msisdn": their.phone(missing=False),
            "contact_alias": _aliases(everyone, contact, rng),
            "op": op,
            "op_time": when,
            "client": np.array(["android", "ios"], dtype=object)[rng.integers(0, 2, size=n)],
        },
        record_id="edge_id",
        person=owner.astype(np.int64),
        counterpart=contact.astype(np.int64),
        noise=[
            f"{x},counterpart:{y}" if x and y else x or (f"counterpart:{y}" if y else "")
            for x, y in zip(ident.noise(), their.noise(), strict=True)
        ],
        arrow_types={
            "edge_id": pa.string(),
            "owner_msisdn": pa.string(),
            "owner_name": pa.string(),
            "contact_msisdn": pa.string(),
            "contact_alias": pa.string(),
            "op": pa.string(),
            "op_time": pa.timestamp("ms"),
            "client": pa.string(),
        },
    )
