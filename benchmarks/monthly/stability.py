"""How much scores move from one monthly run to the next, on a generated population.

Generates a population (cached under ``out/``), loads it, links persons from the generator's
ground truth (test setup, as in tests/scoring/truth.py), trains once, scores the last ``runs``
month-ends and prints the distribution of month-to-month changes for persons scored in both
months, overall and split by what moved (the thin-file switch, the court cap, each feature).

    .venv/bin/python benchmarks/monthly/stability.py [--people 2000] [--seed 7] [--runs 12]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from scoring.truth import link_from_truth  # noqa: E402

from credo.ingest.batch import ingest_population  # noqa: E402
from credo.settings import Settings  # noqa: E402
from credo.sim import generate  # noqa: E402
from credo.store.db import Store  # noqa: E402

HERE = Path(__file__).parent
OUT = HERE / "out"


def changes(store: Store, runs: list[str]) -> dict[str, object]:
    """|score change| per person between consecutive runs, with what changed."""
    rows = store.con.execute(
        "SELECT a.score, b.score, a.not_enough_history, b.not_enough_history,"
        " a.capped OR len(a.court_listings) > 0, b.capped OR len(b.court_listings) > 0"
        " FROM score_runs r JOIN score_snapshots b ON b.run_id = r.run_id"
        " JOIN score_snapshots a ON a.run_id = r.previous_run_id AND a.person_id = b.person_id"
        " WHERE list_contains(?, r.run_id)",
        [runs],
    ).fetchall()
    d = np.array([abs(r[1] - r[0]) for r in rows])
    thin = np.array([r[2] != r[3] for r in rows])
    court = np.array([r[4] != r[5] for r in rows])
    steady = ~thin & ~court

    def summary(x: np.ndarray) -> dict[str, float]:
        if len(x) == 0:
            return {}
        return {
            "n": len(x),
            "median": float(np.median(x)),
            "p90": float(np.quantile(x, 0.9)),
            "p99": float(np.quantile(x, 0.99)),
            "max": float(x.max()),
            "mean": round(float(x.mean()), 2),
        }

    return {
        "all": summary(d),
        "model_only": summary(d[steady]),
        "thin_switch": summary(d[thin]),
        "court_switch": summary(d[court]),
    }


def feature_moves(store: Store, runs: list[str], model_id: str) -> dict[str, object]:
    """Per feature: mean |points change| between consecutive runs, and how often it made
    the largest move of a person whose score moved more than 20 points."""
    from credo.features import PointInTime, features_sql
    from credo.scoring.columns import columns_of
    from credo.scoring.registry import load_model

    model = load_model(store, model_id)
    out: dict[str, list[float]] = {f: [] for f in model.features}
    prev: dict[str, dict[str, float]] | None = None
    blame: dict[str, int] = {}
    for run in runs:
        as_of, known, previous = store.con.execute(
            "SELECT as_of, known_at, previous_run_id FROM score_runs WHERE run_id = ?", [run]
        ).fetchall()[0]
        sql = features_sql(PointInTime(as_of, known), previous_run=previous)
        table = store.con.sql(f"SELECT * FROM ({sql}) f ORDER BY person_id").to_arrow_table()
        cols = columns_of(table, model.features)
        idx = model.bin_indexes(cols)
        persons = table.column("person_id").to_pylist()
        pts = {
            f: dict(zip(persons, (model.units_of(f)[idx[f]] / model.unit).tolist(), strict=True))
            for f in model.features
        }
        if prev is not None:
            for f in model.features:
                common = pts[f].keys() & prev[f].keys()
                out[f] += [abs(pts[f][p] - prev[f][p]) for p in common]
            for p in pts[model.features[0]].keys() & prev[model.features[0]].keys():
                moves = {f: pts[f][p] - prev[f][p] for f in model.features}
                if abs(sum(moves.values())) > 20:
                    top = max(moves, key=lambda f: abs(moves[f]))
                    blame[top] = blame.get(top, 0) + 1
        prev = pts
    return {
        "mean_abs": {f: round(float(np.mean(v)), 2) for f, v in out.items() if v},
        "largest_in_moves_over_20": dict(sorted(blame.items(), key=lambda kv: -kv[1])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--features", action="store_true", help="also per-feature moves")
    parser.add_argument("--table", action="store_true", help="print the points table")
    args = parser.parse_args()
    pop = OUT / f"pop-{args.people}-{args.months}-{args.seed}"
    if not (pop / "manifest.json").exists():
        generate(args.people, args.months, args.seed, pop)
    template = OUT / f"loaded-{args.people}-{args.months}-{args.seed}.duckdb"
    if not template.exists():
        with Store.open(Settings(db=template)) as store:
            ingest_population(store, pop, max_reject_rate=0.01)
            link_from_truth(store, pop)
    db = OUT / "stability.duckdb"
    for suffix in (".duckdb", ".key"):
        shutil.copy(template.with_suffix(suffix), db.with_suffix(suffix))
    started = time.perf_counter()
    from credo.scoring import run_demo_scoring

    with Store.open(Settings(db=db)) as store:
        result = run_demo_scoring(store, args.runs)
        report: dict[str, object] = {
            "people": args.people,
            "seed": args.seed,
            "model_id": result.model_id,
            "trained_as_of": str(result.trained_as_of),
            "share_below_550": result.share_below_550,
            "bands": result.bands,
            "changes": changes(store, result.runs),
        }
        new_user = store.con.execute(
            "SELECT avg(CASE WHEN score < 550 THEN 1.0 ELSE 0 END),"
            " avg(CASE WHEN not_enough_history THEN 1.0 ELSE 0 END)"
            " FROM score_snapshots WHERE run_id = ?",
            [result.runs[-1]],
        ).fetchall()[0]
        spread = store.con.execute(
            "SELECT stddev_pop(score), quantile_cont(score, 0.25), quantile_cont(score, 0.75),"
            " avg(CASE WHEN band <> b_prev THEN 1.0 ELSE 0 END) FROM ("
            "  SELECT s.score, s.band, p.band AS b_prev FROM score_runs r"
            "  JOIN score_snapshots s ON s.run_id = r.run_id"
            "  LEFT JOIN score_snapshots p ON p.run_id = r.previous_run_id"
            "   AND p.person_id = s.person_id WHERE r.run_id = ?)",
            [result.runs[-1]],
        ).fetchall()[0]
        report["last_run"] = {
            "below_550": new_user[0],
            "thin": new_user[1],
            "score_sd": round(spread[0], 1),
            "iqr": [spread[1], spread[2]],
            "band_changed": round(spread[3], 4),
        }
        if args.table:
            from credo.scoring.registry import load_model

            for row in load_model(store, result.model_id).table.rows:
                print(
                    f"{row.feature[:34]:34} {row.description[:40]:40} {row.points:6g}"
                    f" {row.count:6d} {row.bad_count:4d}"
                )
        if args.features:
            report["feature_moves"] = feature_moves(store, result.runs, result.model_id)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
