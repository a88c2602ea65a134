#!/usr/bin/env bash
# The benchmark's own environment (benchmarks/linkage/.venv, gitignored): recordlinkage (the
# ECM peer, and FEBRL 1-4 with ground truth) requires pandas < 3, which Credo does not use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3.11 -m venv "$here/.venv" 2>/dev/null || python3 -m venv "$here/.venv"
pip="$here/.venv/bin/pip"
"$pip" install --upgrade pip >/dev/null
# Credo's runtime (credo itself is imported from the work tree) and the peer.
"$pip" install "duckdb>=2.0" "numpy>=1.26" "pydantic>=2.7" "pydantic-settings>=2.3" \
  "typer>=0.12" "rich>=13" "cryptography>=42" "pyyaml>=6" "pyarrow>=15" \
  "charset-normalizer>=3" "scikit-learn>=1.6" "splink==5.0.0" "pypinyin>=0.55" \
  "recordlinkage==0.16" "pandas>=2.2,<3" psutil
echo "benchmark environment ready: $here/.venv"
