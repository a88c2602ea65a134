"""The monthly scoring: training on the bureau's events, monthly runs, off-cycle re-scores,
explanations and points regimes (SPEC S3-S6, S9).

Everything is a function of the store and explicit dates; nothing reads the wall clock to
decide a score. See docs/decisions/0500-monthly-scoring.md.
"""

from typing import TYPE_CHECKING

from credo._lazy import lazy_exports

if TYPE_CHECKING:
    from credo.scoring.demo import DemoResult, run_demo_scoring
    from credo.scoring.explain import ScoreExplanation, explain_score
    from credo.scoring.registry import load_model, register_model
    from credo.scoring.snapshots import (
        ScoreRun,
        compute_snapshots,
        is_restricted,
        latest_known_at,
        replay_run,
        rescore_person,
        score,
    )
    from credo.scoring.train import TrainingResult, train_model, training_table

__getattr__ = lazy_exports(
    "credo.scoring",
    {
        "DemoResult": "demo",
        "ScoreExplanation": "explain",
        "ScoreRun": "snapshots",
        "TrainingResult": "train",
        "compute_snapshots": "snapshots",
        "explain_score": "explain",
        "is_restricted": "snapshots",
        "latest_known_at": "snapshots",
        "load_model": "registry",
        "register_model": "registry",
        "replay_run": "snapshots",
        "rescore_person": "snapshots",
        "run_demo_scoring": "demo",
        "score": "snapshots",
        "train_model": "train",
        "training_table": "train",
    },
)

__all__ = [
    "DemoResult",
    "ScoreExplanation",
    "ScoreRun",
    "TrainingResult",
    "compute_snapshots",
    "explain_score",
    "is_restricted",
    "latest_known_at",
    "load_model",
    "register_model",
    "replay_run",
    "rescore_person",
    "run_demo_scoring",
    "score",
    "train_model",
    "training_table",
]
