"""Replay: a recorded monthly run recomputed from exactly its recorded inputs (for audits).

The run row names the model, the policy (with the digest of its file) and the watermark; the
same inputs give the same rows, so a replay equals what was written, row for row.
"""

from __future__ import annotations

import pyarrow as pa

from credo.errors import ConfigError, NotFoundError
from credo.features import PointInTime
from credo.policy.schema import load_policy
from credo.scoring.policy_rules import scoring_policy
from credo.scoring.registry import load_model
from credo.scoring.snapshots import compute_snapshots
from credo.store.db import Store
from credo.store.rows import one

__all__ = ["replay_run"]


def replay_run(store: Store, run_id: str) -> pa.Table:
    """Recompute a recorded monthly run from its recorded inputs (for audits and tests)."""
    run = one(
        store.con,
        "SELECT kind, as_of, known_at, model_id, policy_name, policy_digest, previous_run_id,"
        " person_id FROM score_runs WHERE run_id = ?",
        [run_id],
    )
    if run is None:
        raise NotFoundError(f"no score run {run_id!r}")
    if run["kind"] != "monthly":
        raise ConfigError(f"run {run_id} is a {run['kind']} run; only monthly runs replay")
    loaded = load_policy(run["policy_name"])
    if loaded.digest != run["policy_digest"]:
        raise ConfigError(
            f"policy {run['policy_name']!r} changed since run {run_id}"
            f" ({run['policy_digest']} -> {loaded.digest})",
            hint="restore the policy file of that version to replay",
        )
    pit = PointInTime(run["as_of"], run["known_at"], scoring_policy(loaded).retention_years)
    return compute_snapshots(
        store,
        pit,
        load_model(store, run["model_id"]),
        loaded,
        previous=run["previous_run_id"],
        person=run["person_id"],
        run_id=run_id,
    )
