"""Exact rewrites of the scoring SQL on an in-memory VARCHAR table (decisions 0112, 0115, 0116).

Run from the repository root with the benchmark's environment:

    benchmarks/scorecard/.venv/bin/python benchmarks/scorecard/rewrites.py --rows 1000000

Fits Credo's card on German Credit, copies its rows to ``--rows`` in an in-memory DuckDB table
(and, for reference, a database file), checks that every rewrite gives the 0110 SQL's scores
row for row, then prints the process CPU seconds and wall seconds of each, median of
``--repeat`` interleaved rounds. CPU seconds are the figure to compare on a shared box.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # puts the repository root on sys.path

from credo.models.sql import scoring_sql

OPTIONS = {"keep": [], "feature_points": False, "dimension_points": False}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    X, y = run.load("german_credit")
    credo = run.Credo()
    credo.fit(X, y)
    card = credo.est.model_
    text = [c for c in X.columns if X[c].dtype == object]
    numeric = [c for c in X.columns if c not in text]
    big = X.sample(args.rows, replace=True, random_state=run.SEED).reset_index(drop=True)
    # The first rows carry what every form must score as the 0110 SQL does: NULL, an unseen
    # category, a known one in upper case and one with a trailing space (each text column).
    for c in text:
        known = str(X[c].iloc[0])
        big.loc[:3, c] = [None, "unseen category", known.upper(), known + " "]
    con = duckdb.connect()
    con.register("big_frame", big)
    con.sql("CREATE TABLE applicants AS SELECT * FROM big_frame")
    con.unregister("big_frame")
    folder = tempfile.TemporaryDirectory(prefix="credo-rewrites-")
    con.sql(f"ATTACH '{Path(folder.name) / 'stored.duckdb'}' AS stored")
    con.sql("CREATE TABLE stored.applicants AS SELECT * FROM applicants")
    con.sql("CHECKPOINT stored")

    full = scoring_sql(card, "applicants", **OPTIONS)
    # Each feature's CASE as 0110 writes it, and the points each category, NULL and ELSE get.
    case = {
        m.group(2): m.group(1)
        for m in re.finditer(r'    (CASE\n.*?END) AS "points__([^"]+)"', full, re.S)
    }

    def points(name: str) -> tuple[dict[str, int], int, int]:
        rows, units = card.rows_of(name), [int(u) for u in card.units_of(name)]
        table = {
            cat: u for r, u in zip(rows[:-2], units[:-2], strict=True) for cat in r.categories or []
        }
        return table, units[-2], units[-1]  # categories, ELSE (other), NULL (missing)

    def total(terms: list[str], source: str = "applicants") -> str:
        return f"SELECT {' + '.join(f'({t})' for t in terms)} AS score FROM {source}"

    raw = total([case[c] for c in X.columns])
    # (a) each text column's distinct values scored once, joined back.
    ctes, joins, terms = [], [], []
    for i, c in enumerate(text):
        ctes.append(
            f'd{i} AS (SELECT "{c}" AS v, {case[c]} AS p'
            f' FROM (SELECT DISTINCT "{c}" FROM applicants))'
        )
        joins.append(f'LEFT JOIN d{i} ON t."{c}" = d{i}.v')
        terms.append(f"COALESCE(d{i}.p, {points(c)[2]})")
    terms += [case[c].replace(f'"{c}"', f't."{c}"') for c in numeric]
    distinct = (
        f"WITH {', '.join(ctes)} SELECT {' + '.join(f'({t})' for t in terms)} AS score"
        f" FROM applicants t {' '.join(joins)}"
    )

    # (b) a MAP literal per text column.
    def map_lookup(c: str) -> str:
        table, other, missing = points(c)
        literal = "MAP {" + ", ".join(f"{_literal(k)}: {v}" for k, v in table.items()) + "}"
        return (
            f'COALESCE({literal}["{c}"], CASE WHEN "{c}" IS NULL THEN {missing} ELSE {other} END)'
        )

    maps = total([map_lookup(c) if c in text else case[c] for c in X.columns])
    # (c) ENUM of the training categories: inline, or a table made once and then scored.
    enum_select = ", ".join(
        f'TRY_CAST("{c}" AS ENUM({", ".join(_literal(k) for k in points(c)[0])})) AS "{c}"'
        if c in text
        else f'"{c}"'
        for c in X.columns
    )
    enum_inline = total([case[c] for c in X.columns], f"(SELECT {enum_select} FROM applicants)")

    def enum_copy() -> np.ndarray:
        con.sql(f"CREATE OR REPLACE TEMP TABLE credo_enum AS SELECT {enum_select} FROM applicants")
        scores = con.sql(total([case[c] for c in X.columns], "credo_enum")).fetchnumpy()["score"]
        con.sql("DROP TABLE credo_enum")
        return scores

    # Each text column in its own subquery, stitched back by position.
    parts = [f"(SELECT {' + '.join(f'({case[c]})' for c in numeric)} AS p FROM applicants) n"]
    parts += [f"(SELECT {case[c]} AS p FROM applicants) t{i}" for i, c in enumerate(text)]
    positional = (
        f"SELECT n.p + {' + '.join(f't{i}.p' for i in range(len(text)))} AS score FROM "
        + " POSITIONAL JOIN ".join(parts)
    )

    # A switch on strlen before the = tests (0110's rejected form).
    def strlen_switch(c: str) -> str:
        table, other, missing = points(c)
        by_length: dict[int, list[str]] = {}
        for k, v in table.items():
            by_length.setdefault(len(k), []).append(f'WHEN "{c}" = {_literal(k)} THEN {v}')
        whens = " ".join(
            f"WHEN {n} THEN CASE {' '.join(w)} ELSE {other} END" for n, w in by_length.items()
        )
        return (
            f'CASE strlen("{c}") {whens} ELSE CASE WHEN "{c}" IS NULL THEN {missing}'
            f" ELSE {other} END END"
        )

    switch = total([strlen_switch(c) if c in text else case[c] for c in X.columns])

    # WHENs dropped where a category's points equal both the ELSE and the NULL points.
    def pruned(c: str) -> str:
        _, other, missing = points(c)
        if c not in text or other != missing:
            return case[c]
        lines = case[c].split("\n")
        return "\n".join(
            line for line in lines if not (" = '" in line and line.endswith(f"THEN {other}"))
        )

    prune = total([pruned(c) for c in X.columns])

    # Decision 0116: the forms 0115 left untried.
    def by_count(name: str) -> list[tuple[str, int, int]]:
        """(category, points, training count of its bin), most frequent bin first, as 0110."""
        rows, units = card.rows_of(name), [int(u) for u in card.units_of(name)]
        order = sorted(range(len(rows) - 2), key=lambda i: -rows[i].count)
        return [(cat, units[i], rows[i].count) for i in order for cat in rows[i].categories or []]

    def fallback(c: str) -> str:
        _, other, missing = points(c)
        return f'CASE WHEN "{c}" IS NULL THEN {missing} ELSE {other} END'

    # (e) a binary search tree of `<` over the sorted categories, `=` at the leaves (two at most,
    # frequent first); NULL fails every `<` and `=` and reaches the leaf's fallback.
    def tree(c: str, weighted: bool) -> str:
        entries = sorted(by_count(c))  # byte order of UTF-8 = code point order = DuckDB's order

        def node(part: list[tuple[str, int, int]]) -> str:
            if len(part) <= 2:
                whens = " ".join(
                    f'WHEN "{c}" = {_literal(k)} THEN {v}'
                    for k, v, _ in sorted(part, key=lambda e: -e[2])
                )
                return f"CASE {whens} ELSE {fallback(c)} END"
            split = len(part) // 2
            if weighted:  # the split that halves the training count best
                half, seen, best = sum(e[2] for e in part) / 2, 0, None
                for i in range(1, len(part)):
                    seen += part[i - 1][2]
                    if best is None or abs(seen - half) < best[0]:
                        best = (abs(seen - half), i)
                split = best[1] if best else split
            return (
                f'CASE WHEN "{c}" < {_literal(part[split][0])} THEN {node(part[:split])}'
                f" ELSE {node(part[split:])} END"
            )

        return node(entries)

    tree_median = total([tree(c, False) if c in text else case[c] for c in X.columns])
    tree_count = total([tree(c, True) if c in text else case[c] for c in X.columns])

    # (f) the category's position in a constant list (frequent first) indexes a points list.
    def position(c: str) -> str:
        entries = by_count(c)
        cats = ", ".join(_literal(k) for k, _, _ in entries)
        pts = ", ".join(str(v) for _, v, _ in entries)
        return f'COALESCE([{pts}][list_position([{cats}], "{c}")], {fallback(c)})'

    positions = total([position(c) if c in text else case[c] for c in X.columns])

    # (g) where a column's categories all differ in byte length: strlen indexes a list of
    # candidates and one of points, and a single `=` confirms the candidate.
    def by_length(c: str) -> str:
        entries = by_count(c)
        lengths = [len(k.encode()) for k, _, _ in entries]
        if len(set(lengths)) < len(lengths):
            return case[c]
        cands, pts = ["NULL"] * max(lengths), ["NULL"] * max(lengths)
        for (k, v, _), n in zip(entries, lengths, strict=True):
            cands[n - 1], pts[n - 1] = _literal(k), str(v)
        return (
            f'CASE WHEN "{c}" = [{", ".join(cands)}][strlen("{c}")]'
            f' THEN [{", ".join(pts)}][strlen("{c}")] ELSE {fallback(c)} END'
        )

    lengths = total([by_length(c) if c in text else case[c] for c in X.columns])

    # (h) nested projections: the numeric features, then groups of four text features, each
    # level adding its CASEs to the running sum and passing the unread columns on.
    def nested(groups: list[list[str]]) -> str:
        source, done, running = "applicants", [], ""
        for g, group in enumerate(groups):
            rest = [f'"{c}"' for c in X.columns if c not in done and c not in group]
            terms = " + ".join([running] * bool(running) + [f"({case[c]})" for c in group])
            source = f"(SELECT {', '.join([f'{terms} AS s{g}', *rest])} FROM {source})"
            done, running = done + group, f"s{g}"
        return f"SELECT {running} AS score FROM {source}"

    nest = nested([numeric] + [text[i : i + 4] for i in range(0, len(text), 4)])

    # (i) `WHEN x IS NULL` dropped where the missing bin's points equal the ELSE (other) bin's.
    def without_null(c: str) -> str:
        _, other, missing = points(c)
        if c not in text or other != missing:
            return case[c]
        return "\n".join(
            line
            for line in case[c].split("\n")
            if not line.endswith("IS NULL THEN " + str(missing))
        )

    no_null = total([without_null(c) for c in X.columns])
    # Floors, not rewrites (their scores differ): what any exact form must at least spend.
    floor_read = total([f'("{c}" IS NULL)::INTEGER' if c in text else case[c] for c in X.columns])
    floor_one = total(
        [
            f'("{c}" = {_literal(by_count(c)[0][0])})::INTEGER' if c in text else case[c]
            for c in X.columns
        ]
    )

    def query(sql: str) -> Callable[[], np.ndarray]:
        return lambda: con.sql(sql).fetchnumpy()["score"]

    variants: dict[str, Callable[[], np.ndarray]] = {
        "0110 SQL (scoring_sql), in-memory table": query(full),
        "0110 SQL, table in a database file (reference)": query(
            scoring_sql(card, "stored.applicants", **OPTIONS)
        ),
        "sum of the 0110 CASEs (the rewrites' reference)": query(raw),
        "(a) DISTINCT per text column, LEFT JOIN back *": query(distinct),
        "(b) MAP literal per text column": query(maps),
        "(c) TRY_CAST to ENUM inside the query": query(enum_inline),
        "(c) ENUM temp table made, then scored": enum_copy,
        "per-column subqueries, POSITIONAL JOIN": query(positional),
        "strlen switch before =": query(switch),
        "strlen switch before =, database file": query(
            switch.replace("applicants", "stored.applicants")
        ),
        "WHENs equal to ELSE and NULL dropped": query(prune),
        "(e) binary tree of < over sorted categories": query(tree_median),
        "(e) binary tree of <, split by training count": query(tree_count),
        "(f) list_position in a list, points list indexed": query(positions),
        "(g) strlen indexes candidate and points lists": query(lengths),
        "(h) nested projections: numeric, then 4 text groups": query(nest),
        "(i) WHEN IS NULL dropped where NULL = ELSE points": query(no_null),
        "floor: text columns read (IS NULL), numeric CASEs": query(floor_read),
        "floor: one = per text column, numeric CASEs": query(floor_one),
    }
    reference = con.sql(raw).fetchnumpy()["score"]
    for label, call in variants.items():
        if label.endswith("*"):  # a join returns the rows in another order: compare sorted
            assert np.array_equal(np.sort(call()), np.sort(reference)), label
        elif not label.startswith(("0110", "floor")):
            assert np.array_equal(call(), reference), label
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    wall: dict[str, list[float]] = {k: [] for k in variants}
    items = list(variants.items())
    for round_ in range(args.repeat):
        shift = round_ % len(items)
        for label, call in items[shift:] + items[:shift]:
            c0, w0 = _cpu(), time.perf_counter()
            assert len(call()) == args.rows
            wall[label].append(time.perf_counter() - w0)
            cpu[label].append(_cpu() - c0)
    base = statistics.median(cpu["sum of the 0110 CASEs (the rewrites' reference)"])
    print(f"{'form':52s} {'CPU s':>7s} {'wall s':>7s} {'CPU vs ref':>10s}")
    for label in variants:
        c, w = statistics.median(cpu[label]), statistics.median(wall[label])
        print(f"{label:52s} {c:7.3f} {w:7.3f} {c / base:9.2f}x")
    print("* rows come back out of order (no ORDER BY timed): a lower bound")
    folder.cleanup()


if __name__ == "__main__":
    main()
