"""Linkage quality and scale: Credo's identity resolution beside plain Splink and ECM.

Data: FEBRL 1-4 (shipped with ground truth inside ``recordlinkage``) and a synthetic Credo
population (``credo.sim``; truth in ``truth/records.parquet``). Credo runs its real pipeline:
on the synthetic set through the store (ingest, ``resolve``); on FEBRL its linkage core on the
same record columns (name, date of birth, id number as national id, address). The ECM peer
scores the same blocked candidate pairs, with comparison features matching Credo's; the plain
Splink peer is Splink's own default setup on the same records (``splink_peer``).
Metrics are pairwise precision, recall and F1 after clustering (connected components for
ECM, Credo's own clustering for Credo).

    benchmarks/linkage/.venv/bin/python benchmarks/linkage/run.py --synthetic-people 20000
    benchmarks/linkage/.venv/bin/python benchmarks/linkage/run.py --scale-people 95000
    benchmarks/linkage/.venv/bin/python benchmarks/linkage/run.py --hardness hard --febrl ''

``--hardness`` picks the generator's identity-hardness presets, comma-separated (``credo generate
--identity-hardness``); every synthetic result also counts the persons that hold two different
national ids that both pass the check digit (the target is zero).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from credo.identity.cluster import Edge, cluster  # noqa: E402
from credo.identity.linkage import (  # noqa: E402
    PAIRS_TABLE,
    predict_pairs,
    splink_connection,
    train_model,
)
from credo.identity.linkage_model import DEFAULT_MATCH_WEIGHT  # noqa: E402
from credo.identity.records import linkage_frame  # noqa: E402
from credo.identity.rules import known_id_sexes, persons_with_two_verified_ids  # noqa: E402
from credo.store.rows import registered  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def pair_metrics(pred: list[int], true: list[str]) -> dict[str, float]:
    def pairs(groups: dict[Any, int]) -> int:
        return sum(n * (n - 1) // 2 for n in groups.values())

    both: dict[tuple[int, str], int] = {}
    p: dict[int, int] = {}
    t: dict[str, int] = {}
    for a, b in zip(pred, true, strict=True):
        both[(a, b)] = both.get((a, b), 0) + 1
        p[a] = p.get(a, 0) + 1
        t[b] = t.get(b, 0) + 1
    tp, pp, ap = pairs(both), pairs(p), pairs(t)
    precision = tp / pp if pp else 1.0
    recall = tp / ap if ap else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def components(n: int, left: list[int], right: list[int]) -> list[int]:
    edges = [Edge(a, b, "x", 1.0) for a, b in zip(left, right, strict=True)]
    labels: list[int] = cluster(n, edges, []).labels.tolist()
    return labels


def credo_core(records: pa.Table, threshold: float = DEFAULT_MATCH_WEIGHT) -> tuple[list[int], Any]:
    """Train, predict and cluster on a record table with Credo's columns (no store)."""
    ids = records.column("record_id").to_pylist()
    index = {r: i for i, r in enumerate(ids)}
    with splink_connection("6GB", None) as con:
        feats = linkage_frame(con, records)
        model = train_model(con, feats)
        predict_pairs(con, feats, model, threshold)
        # pairs are by row of feats (ordered by record id): map them back to rows of records
        fid = feats.column("record_id").to_pylist()
        pairs = con.sql(f"SELECT a, b FROM {PAIRS_TABLE} ORDER BY match_weight DESC, a, b")
        edges = [Edge(index[fid[a]], index[fid[b]], "model", 0.0) for a, b in pairs.fetchall()]
    nid = records.column("national_id_hash").to_pylist()
    first: dict[str, int] = {}
    for i, h in enumerate(nid):
        if h is not None:
            if h in first:
                edges.append(Edge(first[h], i, "national_id", 0.0))
            else:
                first[h] = i
    return cluster(len(ids), edges, []).labels.tolist(), feats


def ecm_peer(feats: pa.Table) -> list[int]:
    """recordlinkage's ECM on Credo's blocked candidate pairs, features as Credo's levels."""
    import pandas as pd
    import recordlinkage as rl

    df = feats.to_pandas().set_index("record_id")
    df["birth"] = df["birth_date"].astype(str)
    candidates = None
    for cols in (["phone_hash"], ["national_id_hash"], ["subject_ref"], ["name_key", "birth"],
                 ["address_tail"]):  # fmt: skip
        present = df.dropna(subset=cols)
        if len(present) < 2:
            continue
        idx = rl.Index()
        idx.block(left_on=cols)
        got = idx.index(present)
        candidates = got if candidates is None else candidates.union(got)
    assert candidates is not None
    comp = rl.Compare()
    comp.exact("national_id_hash", "national_id_hash", label="nid")
    comp.exact("phone_hash", "phone_hash", label="phone")
    comp.exact("subject_ref", "subject_ref", label="ref")
    comp.string("name_key", "name_key", method="jarowinkler", threshold=0.92, label="name")
    comp.exact("birth", "birth", label="dob")
    comp.string("address_norm", "address_norm", method="jarowinkler", threshold=0.9, label="addr")
    comp.exact("sex", "sex", label="sex")
    features = comp.compute(candidates, df).fillna(0).astype(int)
    features = features.loc[:, features.nunique() > 1]
    matches = rl.ECMClassifier(binarize=None).fit_predict(features)
    ids = list(df.index)
    index = {r: i for i, r in enumerate(ids)}
    left = [index[a] for a, _ in matches]
    right = [index[b] for _, b in matches]
    del pd
    return components(len(ids), left, right)


def splink_peer(records: pa.Table) -> list[int]:
    """Plain Splink with a default setup, as its tutorials have it, on the same records: the
    library's own comparisons (names by Jaro-Winkler, dates of birth, exact ids and phones,
    address by Jaro-Winkler, sex), no Chinese-name handling, no constraints; u by random
    sampling, m by EM blocked on national id and on phone; clusters are its connected
    components at match probability 0.95. Labels in the order of ``records``."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    cols = ["record_id", "name", "birth_date", "sex", "national_id_hash", "phone_hash", "address"]
    with splink_connection("6GB", None) as con:
        with registered(con, "peer_in", records.select(cols)):
            con.execute("CREATE TABLE peer_records AS SELECT * FROM peer_in")
        api = DuckDBAPI(con)
        settings = SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="record_id",
            comparisons=[
                cl.NameComparison("name"),
                cl.DateOfBirthComparison("birth_date", input_is_string=False),
                cl.ExactMatch("national_id_hash"),
                cl.ExactMatch("phone_hash"),
                cl.JaroWinklerAtThresholds("address"),
                cl.ExactMatch("sex"),
            ],
            blocking_rules_to_generate_predictions=[
                block_on("national_id_hash"),
                block_on("phone_hash"),
                block_on("name", "birth_date"),
                block_on("address"),
            ],
        )
        linker = Linker(api.register("peer_records"), settings, log_level=logging.ERROR)
        deterministic = [block_on("national_id_hash"), block_on("phone_hash")]
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        from splink.internals.exceptions import EMTrainingException

        for rule in deterministic:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(rule)
            except EMTrainingException:
                continue  # no two records share it (FEBRL has no phones)
        pairs = linker.inference.predict(threshold_match_probability=0.5)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            pairs, threshold_match_probability=0.95
        )
        got = dict(
            con.sql(f"SELECT record_id, cluster_id FROM {clusters.physical_name}").fetchall()
        )
    label: dict[str, int] = {}
    ids = records.column("record_id").to_pylist()
    return [label.setdefault(got.get(r, r), len(label)) for r in ids]


def febrl(number: int) -> tuple[pa.Table, list[str]]:
    import recordlinkage.datasets as ds

    loader = getattr(ds, f"load_febrl{number}")
    if number == 4:
        a, b, _links = loader(return_links=True)
        df = a._append(b) if hasattr(a, "_append") else __import__("pandas").concat([a, b])
    else:
        df, _links = loader(return_links=True)
    # the true entity: FEBRL record ids are rec-<entity>-org / rec-<entity>-dup-<k>
    truth = [str(i).split("-")[1] for i in df.index]
    dob = pa.array(
        [_date(v) for v in df["date_of_birth"].tolist()],
        pa.date32(),
    )

    def text(col: str) -> list[str | None]:
        return [None if v != v or v is None else str(v) for v in df[col].tolist()]

    given, surname = text("given_name"), text("surname")
    name = [" ".join(x for x in (g, s) if x) or None for g, s in zip(given, surname, strict=True)]
    parts = [
        text(c) for c in ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
    ]
    address = [" ".join(x for x in row if x) or None for row in zip(*parts, strict=True)]
    table = pa.table(
        {
            "record_id": [str(i) for i in df.index],
            "source": ["febrl"] * len(df),
            "subject_ref": pa.nulls(len(df), pa.string()),
            "name": name,
            "birth_date": dob,
            "sex": pa.nulls(len(df), pa.string()),
            "national_id_hash": text("soc_sec_id"),
            "phone_hash": pa.nulls(len(df), pa.string()),
            "address": address,
        }
    )
    return table, truth


def _date(v: Any) -> Any:
    import datetime as dt

    try:
        s = str(v)
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except (ValueError, TypeError):
        return None


def _prepare(people: int, workdir: Path, settings: Any, hardness: str) -> None:
    from credo.ingest.batch import ingest_population
    from credo.sim import HARDNESS, generate
    from credo.store.db import Store

    t0 = time.perf_counter()
    generate(people, 12, 7, workdir / "population", noise=HARDNESS[hardness])  # type: ignore[index]
    t1 = time.perf_counter()
    with Store.open(settings) as store:
        ingest_population(store, workdir / "population", max_reject_rate=0.01)
    times = {"generate": t1 - t0, "ingest": time.perf_counter() - t1}
    (workdir / "prepare.json").write_text(json.dumps(times))


def synthetic(
    people: int,
    workdir: Path,
    ecm: bool = True,
    hardness: str = "realistic",
    splink: bool = True,
    reuse: bool = False,
) -> dict[str, Any]:
    """Credo's product path on a generated population, then the peers on the same records.

    ``reuse`` skips generation, ingest and resolve and evaluates the store an earlier run left
    in ``workdir`` (its Credo times from ``credo.json`` where that run wrote one), so that the
    peers can run later on the same records. Each peer runs in a child process, for its own
    time and peak memory."""
    import multiprocessing

    from credo.identity import resolve
    from credo.settings import Settings
    from credo.store.db import Store

    settings = Settings(db=workdir / "credo.duckdb")  # Credo's defaults (memory limit 3GB)
    truth_records = workdir / "population" / "truth" / "records.parquet"
    if reuse:
        if not (workdir / "credo.duckdb").exists():
            raise SystemExit(f"--reuse: no resolved store of an earlier run in {workdir}")
        saved = workdir / "credo.json"
        result: dict[str, Any] = json.loads(saved.read_text()) if saved.exists() else {}
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        t0 = time.perf_counter()
        # generate and load in a child process, so that peak memory below is the resolve's own
        child = multiprocessing.get_context("spawn").Process(
            target=_prepare, args=(people, workdir, settings, hardness)
        )
        child.start()
        child.join()
        times = json.loads((workdir / "prepare.json").read_text())
        t1 = t0 + times["generate"]
        t2 = time.perf_counter()
        c2 = time.process_time()
        with Store.open(settings) as store:
            report = resolve(store)
            t3 = time.perf_counter()
            c3 = time.process_time()
            # read before the evaluation below, so it is the peak of resolve itself
            resolve_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        result = {
            "people": people,
            "hardness": hardness,
            "records": report.records,
            "refused_links": report.refused_links,
            "seconds": {
                "generate": round(t1 - t0, 1),
                "ingest": round(times["ingest"], 1),
                "resolve (train, predict, cluster, write)": round(t3 - t2, 1),
            },
            "cpu_seconds": {"resolve": round(c3 - c2, 1)},
            "reviews_pending": report.reviews_pending,
            "peak_rss_gib (resolve)": round(resolve_peak, 2),
        }
    with Store.open(settings) as store:
        from credo.identity.records import event_record_key_sql, known_name_forms

        rows = store.con.execute(
            f"""
            WITH ev AS (
                SELECT {event_record_key_sql("e")} AS record_id, t.person_id, count(*) AS n
                FROM events e JOIN read_parquet(?) t USING (source, source_record_id)
                GROUP BY 1, 2
            ),
            -- a few records carry events of two true persons (a shared utility account):
            -- the one with the most events, then the smaller id, so the figures never vary
            t AS (
                SELECT record_id, first(person_id ORDER BY n DESC, person_id) AS truth
                FROM ev GROUP BY 1
            )
            SELECT r.record_id, r.person_id, t.truth
            FROM identity_records r JOIN t USING (record_id)
            ORDER BY 1
            """,
            [str(truth_records)],
        ).fetchall()
        doubled = len(persons_with_two_verified_ids(store))
        valid_ids = {h for h, sex in known_id_sexes(store).items() if sex is not None}
        records = store.con.sql(
            "SELECT record_id, source, subject_ref, name, birth_date, sex, national_id_hash, "
            "phone_hash, address FROM identity_records ORDER BY record_id"
        ).to_arrow_table()
        known = known_name_forms(store.con)
        candidates = peer_candidate_pairs(store.con)
    pid = {p: i for i, p in enumerate(sorted({r[1] for r in rows}))}
    result["credo"] = pair_metrics([pid[r[1]] for r in rows], [r[2] for r in rows])
    result["persons_with_two_valid_ids"] = doubled
    result["peer_candidate_pairs (sum over blocking rules)"] = candidates
    if not reuse:
        (workdir / "credo.json").write_text(json.dumps(result, indent=2) + "\n")
    truth = {r[0]: r[2] for r in rows}
    nids = records.column("national_id_hash").to_pylist()
    valid = [h in valid_ids for h in nids]
    ids = records.column("record_id").to_pylist()
    result.setdefault("seconds", {})
    result.setdefault("cpu_seconds", {})
    if splink:
        plain, wall, cpu, peak = _in_child(_splink_child, records)
        result["splink"] = pair_metrics(plain, [truth[r] for r in ids])
        result["seconds"]["plain splink"] = round(wall, 1)
        result["cpu_seconds"]["plain splink"] = round(cpu, 1)
        result["peak_rss_gib (plain splink)"] = round(peak, 2)
        result["splink_persons_with_two_valid_ids"] = two_valid_ids(plain, nids, valid)
    if ecm:
        try:
            import recordlinkage  # noqa: F401
        except ImportError:
            result["ecm"] = "recordlinkage not installed (run setup.sh)"
            return result
        # linkage_frame keeps the records' order (by record id)
        labels, wall, cpu, peak = _in_child(_ecm_child, (records, known))
        result["ecm"] = pair_metrics(labels, [truth[r] for r in ids])
        result["ecm_persons_with_two_valid_ids"] = two_valid_ids(labels, nids, valid)
        result["seconds"]["ecm (with its features)"] = round(wall, 1)
        result["cpu_seconds"]["ecm (with its features)"] = round(cpu, 1)
        result["peak_rss_gib (ecm)"] = round(peak, 2)
    return result


def _splink_child(records: pa.Table) -> list[int]:
    return splink_peer(records)


def _ecm_child(args: tuple[pa.Table, pa.Table]) -> list[int]:
    records, known = args
    with splink_connection("6GB", None) as con:
        feats = linkage_frame(con, records, known)
    return ecm_peer(feats)


def _measured(fn: Any, arg: Any) -> tuple[Any, float, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn(arg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return value, wall, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _in_child(fn: Any, arg: Any) -> tuple[Any, float, float, float]:
    """``fn(arg)`` in a fresh process: its value, wall and CPU seconds, and peak RSS in GiB."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        got: tuple[Any, float, float, float] = pool.apply(_measured, (fn, arg))
    return got


def peer_candidate_pairs(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Pairs each blocking rule of the peers yields on ``identity_records`` (records sharing
    every key, nulls never), to size a peer before running it: their sum bounds the union."""
    rules = {
        "splink: national id": "national_id_hash",
        "splink: phone": "phone_hash",
        "splink: name, birth date": "name, birth_date",
        "splink: address": "address",
        "ecm: national id": "national_id_hash",
        "ecm: phone": "phone_hash",
        "ecm: subject ref": "subject_ref",
        "ecm: name key, birth date": "name_key, birth_date",
        "ecm: address tail": "address_tail",
    }
    out: dict[str, int] = {}
    for label, cols in rules.items():
        present = " AND ".join(f"{c} IS NOT NULL" for c in cols.split(", "))
        row = con.execute(
            "SELECT coalesce(sum(k * (k - 1) // 2), 0)::BIGINT FROM (SELECT count(*) AS k "
            f"FROM identity_records WHERE {present} GROUP BY {cols})"
        ).fetchone()
        out[label] = int(row[0]) if row else 0
    for peer in ("splink", "ecm"):
        out[f"{peer}: sum"] = sum(v for k, v in out.items() if k.startswith(f"{peer}: "))
    return out


def two_valid_ids(labels: list[int], ids: list[str | None], valid: list[bool]) -> int:
    """Persons holding two different valid id numbers. FEBRL's ``soc_sec_id`` has no check
    digit and its duplicates may mistype it, so the valid numbers are the originals' (records
    ``rec-N-org``): a person holding two of them joined two true persons' ids."""
    held: dict[int, set[str]] = {}
    for label, nid, ok in zip(labels, ids, valid, strict=True):
        if nid is not None and ok:
            held.setdefault(label, set()).add(nid)
    return sum(len(v) > 1 for v in held.values())


def run_febrl(numbers: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in numbers:
        table, truth = febrl(k)
        t0 = time.perf_counter()
        labels, feats = credo_core(table)
        t1 = time.perf_counter()
        ecm = ecm_peer(feats)
        t2 = time.perf_counter()
        plain = splink_peer(table)
        order = {r: i for i, r in enumerate(table.column("record_id").to_pylist())}
        ftruth = [truth[order[r]] for r in feats.column("record_id").to_pylist()]
        nids = table.column("national_id_hash").to_pylist()
        valid = [r.endswith("-org") for r in table.column("record_id").to_pylist()]
        doubled = two_valid_ids(labels, nids, valid)
        fnids = [nids[order[r]] for r in feats.column("record_id").to_pylist()]
        fvalid = [valid[order[r]] for r in feats.column("record_id").to_pylist()]
        out[f"febrl{k}"] = {
            "records": table.num_rows,
            "credo": pair_metrics(labels, truth),
            "splink": pair_metrics(plain, truth),
            "ecm": pair_metrics(ecm, ftruth),
            "credo_persons_with_two_ids": doubled,
            "splink_persons_with_two_ids": two_valid_ids(plain, nids, valid),
            "ecm_persons_with_two_ids": two_valid_ids(ecm, fnids, fvalid),
            "credo_seconds": round(t1 - t0, 1),
            "ecm_seconds": round(t2 - t1, 1),
            "splink_seconds": round(time.perf_counter() - t2, 1),
        }
        print(k, out[f"febrl{k}"], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-people", type=int, default=20_000)
    parser.add_argument("--febrl", default="1,2,3,4", help="which FEBRL sets ('' for none)")
    parser.add_argument("--scale-people", type=int, default=0, help="persons for the scale run")
    parser.add_argument("--no-scale-ecm", action="store_true", help="skip the ECM peer at scale")
    parser.add_argument(
        "--hardness", default="realistic", help="presets, comma-separated (easy,realistic,hard)"
    )
    parser.add_argument("--no-ecm", action="store_true", help="skip the ECM peer everywhere")
    parser.add_argument(
        "--no-splink", action="store_true", help="skip plain Splink on the synthetic sets"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="evaluate the resolved stores an earlier run left in --out (peers only; no "
        "generation, ingest or resolve)",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for the stores and results.json"
    )
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"duckdb": duckdb.__version__, "numpy": np.__version__}
    if args.febrl:
        results["febrl"] = run_febrl([int(x) for x in args.febrl.split(",")])
    presets = args.hardness.split(",")
    if any(p not in ("easy", "realistic", "hard") for p in presets):
        parser.error(f"--hardness: easy, realistic or hard, not {args.hardness!r}")
    for preset in presets if args.synthetic_people else ():
        name = "synthetic" if len(presets) == 1 else f"synthetic_{preset}"
        results[name] = synthetic(
            args.synthetic_people,
            out / name,
            not args.no_ecm,
            preset,
            splink=not args.no_splink,
            reuse=args.reuse,
        )
        print(results[name], flush=True)
    if args.scale_people:
        results["scale"] = synthetic(
            args.scale_people,
            out / "scale",
            not (args.no_scale_ecm or args.no_ecm),
            presets[0],
            splink=not args.no_splink,
            reuse=args.reuse,
        )
        print(results["scale"], flush=True)
    (out / ("results-reuse.json" if args.reuse else "results.json")).write_text(
        json.dumps(results, indent=2) + "\n"
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
