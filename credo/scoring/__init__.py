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
    from credo.scoring.latest import LatestSnapshot, latest_scheduled, latest_snapshot
    from credo.scoring.monthly import rescore_correction, rescore_person, score
    from credo.scoring.registry import load_model, register_model
    from credo.scoring.replay import replay_run
    from credo.scoring.runs import ScoreRun, latest_known_at
    from credo.scoring.snapshots import compute_snapshots
    from credo.scoring.train import TrainingResult, train_model, training_table

__getattr__ = lazy_exports(
    "credo.scoring",
    {
        "DemoResult": "demo",
        "LatestSnapshot": "latest",
        "ScoreExplanation": "explain",
        "ScoreRun": "runs",
        "TrainingResult": "train",
        "compute_snapshots": "snapshots",
        "explain_score": "explain",
        "latest_known_at": "runs",
        "latest_scheduled": "latest",
        "latest_snapshot": "latest",
        "load_model": "registry",
        "register_model": "registry",
        "replay_run": "replay",
        "rescore_correction": "monthly",
        "rescore_person": "monthly",
        "run_demo_scoring": "demo",
        "score": "monthly",
        "train_model": "train",
        "training_table": "train",
    },
)

__all__ = [
    "DemoResult",
    "LatestSnapshot",
    "ScoreExplanation",
    "ScoreRun",
    "TrainingResult",
    "compute_snapshots",
    "explain_score",
    "latest_known_at",
    "latest_scheduled",
    "latest_snapshot",
    "load_model",
    "register_model",
    "replay_run",
    "rescore_correction",
    "rescore_person",
    "run_demo_scoring",
    "score",
    "train_model",
    "training_table",
]
