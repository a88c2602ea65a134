"""Credo's scorecard engine: fit, publish, compile and explain points tables.

:class:`Scorecard` is a scikit-learn estimator; its fitted ``model_`` is a
:class:`ScorecardModel`, the versioned JSON points table that *is* the model. The table compiles
to SQL (:func:`scoring_sql`, DuckDB or Spark), explains each score (:func:`explain`) and is
validated by :func:`validation_report`. Errors are Credo's (``ModelError``/``InputError``) and,
for scikit-learn callers, ``ValueError``s.
"""

from typing import TYPE_CHECKING

from credo._lazy import lazy_exports

if TYPE_CHECKING:
    from credo.models._errors import ConstantFeatureWarning, DataError, FitError
    from credo.models.document import points_table_schema
    from credo.models.estimator import DIMENSIONS, NotFittedError, Scorecard
    from credo.models.explanations import Explanation, Improvement, Reason, explain
    from credo.models.sql import file_source, score_duckdb, scoring_sql
    from credo.models.table import ScorecardModel
    from credo.models.validation import (
        ValidationReport,
        auc,
        calibration_table,
        gini,
        ks,
        psi,
        validation_report,
    )

_WHERE = {
    "ConstantFeatureWarning": "_errors",
    "DataError": "_errors",
    "FitError": "_errors",
    "NotFittedError": "estimator",
    "DIMENSIONS": "estimator",
    "Scorecard": "estimator",
    "Explanation": "explanations",
    "Improvement": "explanations",
    "Reason": "explanations",
    "explain": "explanations",
    "file_source": "sql",
    "score_duckdb": "sql",
    "scoring_sql": "sql",
    "ScorecardModel": "table",
    "points_table_schema": "document",
    "ValidationReport": "validation",
    "auc": "validation",
    "calibration_table": "validation",
    "gini": "validation",
    "ks": "validation",
    "psi": "validation",
    "validation_report": "validation",
}


__getattr__ = lazy_exports("credo.models", _WHERE)


__all__ = [
    "DIMENSIONS",
    "ConstantFeatureWarning",
    "DataError",
    "Explanation",
    "FitError",
    "Improvement",
    "NotFittedError",
    "Reason",
    "Scorecard",
    "ScorecardModel",
    "ValidationReport",
    "auc",
    "calibration_table",
    "explain",
    "file_source",
    "gini",
    "ks",
    "points_table_schema",
    "psi",
    "score_duckdb",
    "scoring_sql",
    "validation_report",
]
