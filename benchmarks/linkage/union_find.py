"""The clustering's union-find at the hard 20k preset's size: one ``Edge`` per link, against
``Links`` batches (decision 0305). Synthetic: 3.3M links over 494,000 records of 20,000
persons, 0.5% of links between persons, traits (verified id, sex, date) drawn per person.
Alternates the two three times, checks they give the same clustering and prints the
medians' ratio.

    nice -n 10 .venv/bin/python benchmarks/linkage/union_find.py
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from credo.identity.cluster import Clustering, Edge, Links, cluster
from credo.identity.constraints import Traits

RECORDS, PERSONS, LINKS = 494_000, 20_000, 3_300_000


def problem(seed: int = 7) -> tuple[list[Traits], list[tuple[int, int, float]]]:
    rng = random.Random(seed)
    person = [rng.randrange(PERSONS) for _ in range(RECORDS)]
    members: dict[int, list[int]] = {}
    for i, p in enumerate(person):
        members.setdefault(p, []).append(i)

    def traits(p: int) -> Traits:
        nid = f"id{p}" if rng.random() < 0.3 else None
        sex = "MF"[p % 2] if rng.random() < 0.5 else None
        birth = dt.date(1960 + p % 40, 1 + p % 12, 1 + p % 28) if rng.random() < 0.5 else None
        return Traits(nid, sex, birth)

    held = [traits(p) for p in person]
    edges = []
    for _ in range(LINKS):
        if rng.random() < 0.995:
            group = members[rng.randrange(PERSONS)]
            if len(group) < 2:
                continue
            a, b = rng.sample(group, 2)
        else:
            a, b = rng.randrange(RECORDS), rng.randrange(RECORDS)
        edges.append((min(a, b), max(a, b), rng.choice((6.5, 8.0, 12.0, 20.0))))
    edges.sort(key=lambda e: (-e[2], e[0], e[1]))
    return held, edges


def main() -> None:
    held, edges = problem()

    def one_by_one() -> Clustering:
        return cluster(RECORDS, (Edge(a, b, "model", w) for a, b, w in edges), [], (), held)

    def batched() -> Clustering:
        def batches() -> Iterator[Links]:
            for k in range(0, len(edges), 1 << 16):
                part = edges[k : k + (1 << 16)]
                yield Links([e[0] for e in part], [e[1] for e in part], [e[2] for e in part])

        return cluster(RECORDS, batches(), [], (), held)

    times: dict[str, list[float]] = {"edges": [], "links": []}
    results = {}
    for _ in range(3):
        for name, run in (("edges", one_by_one), ("links", batched)):
            t0 = time.perf_counter()
            results[name] = run()
            times[name].append(round(time.perf_counter() - t0, 1))
    a, b = results["edges"], results["links"]
    assert (a.labels.tolist(), a.used, a.refused) == (b.labels.tolist(), b.used, b.refused)
    ratio = statistics.median(times["edges"]) / statistics.median(times["links"])
    print(f"{len(edges)} links, {len(a.used)} used, {len(a.refused)} refused; seconds {times}; "
          f"median ratio {ratio:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
