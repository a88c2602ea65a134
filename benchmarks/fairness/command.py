"""Time the whole ``credo fairness --as-of`` command, imports included, as a user runs it
(issue 18: a 10k demo month in under 10 s): the median of ``--repeat`` runs in fresh processes,
and, with ``--peer TREE``, the same command from another checkout, interleaved run by run so
both see the same machine load.

    python benchmarks/fairness/command.py --db demo/credo.duckdb [--as-of D] [--peer /work/main]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def _once(tree: Path, db: str, as_of: str, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "credo", "fairness", "--as-of", as_of, "--out", str(out)]
    began = time.perf_counter()
    # from the tree itself: ``python -m`` puts the working directory ahead of PYTHONPATH
    subprocess.run([*command, "--db", db], check=True, capture_output=True, env=env, cwd=tree)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=lambda p: str(Path(p).resolve()))
    parser.add_argument("--as-of", default="observed", help="a month-end, or 'observed'")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer", type=Path, help="another checkout to time alongside")
    args = parser.parse_args()
    trees = {"this tree": HERE} | ({"peer": args.peer} if args.peer else {})
    times: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, tree in trees.items():
                times[name].append(_once(tree, args.db, args.as_of, Path(tmp) / name))
    for name, runs in times.items():
        print(
            f"{name}: median {statistics.median(runs):.2f} s"
            f" ({', '.join(f'{t:.2f}' for t in runs)})"
        )
    if args.peer:
        ratio = statistics.median(times["this tree"]) / statistics.median(times["peer"])
        print(f"ratio this tree / peer: {ratio:.2f}")


if __name__ == "__main__":
    main()
