"""Identity resolution: every source record to a stable person (SPEC S2).

Exact rules first (the same verified national id), then a Fellegi–Sunter model (Splink,
DuckDB backend) over name (Hanzi and pinyin, any order), date of birth (day/month swaps),
phone, address, sex and the sources' own ids; uncertain pairs go to a review queue; person
ids survive re-runs and new loads, and merges and splits are recorded with their evidence.
Splink is imported only when a model is trained or used.
"""

from typing import TYPE_CHECKING

from credo._lazy import lazy_exports

if TYPE_CHECKING:
    from credo.identity.explain import (
        ComparisonWeight,
        IdentityChange,
        LinkEvidence,
        PersonExplanation,
        SourceRecord,
        explain_person,
    )
    from credo.identity.linkage_model import LinkageModel
    from credo.identity.report import ResolveReport
    from credo.identity.resolution import resolve
    from credo.identity.review import (
        ReviewItem,
        accept_review,
        add_review,
        list_reviews,
        reject_review,
    )
    from credo.identity.stored_model import active_model, export_model

__getattr__ = lazy_exports(
    "credo.identity",
    {
        "ComparisonWeight": "explain",
        "IdentityChange": "explain",
        "LinkEvidence": "explain",
        "LinkageModel": "linkage_model",
        "PersonExplanation": "explain",
        "ResolveReport": "report",
        "ReviewItem": "review",
        "SourceRecord": "explain",
        "accept_review": "review",
        "active_model": "stored_model",
        "add_review": "review",
        "explain_person": "explain",
        "export_model": "stored_model",
        "list_reviews": "review",
        "reject_review": "review",
        "resolve": "resolution",
    },
)

__all__ = [
    "ComparisonWeight",
    "IdentityChange",
    "LinkEvidence",
    "LinkageModel",
    "PersonExplanation",
    "ResolveReport",
    "ReviewItem",
    "SourceRecord",
    "accept_review",
    "active_model",
    "add_review",
    "explain_person",
    "export_model",
    "list_reviews",
    "reject_review",
    "resolve",
]
