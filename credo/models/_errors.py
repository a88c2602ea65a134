"""Errors of the models package: Credo's tree, and scikit-learn's types where callers expect them.

scikit-learn's conventions (and its estimator checks) expect a ``ValueError`` for bad input and
``sklearn.exceptions.NotFittedError`` for an unfitted model, while Credo's CLI and API catch
``CredoError``. Each class below is both, so one ``raise`` serves either caller. The unfitted
error lives in :mod:`credo.models.estimator`: importing scikit-learn costs seconds, and reading
or scoring a points table (the fairness audit, the monthly run) must not pay for it.
"""

from __future__ import annotations

from credo.errors import InputError, ModelError

__all__ = ["ConstantFeatureWarning", "DataError", "FitError"]


class FitError(ModelError, ValueError):
    """A scorecard cannot be fitted or used as asked (one-class target, bad parameter, ...)."""


class DataError(InputError, ValueError):
    """Input data a scorecard cannot accept: no such column, text in a numeric column, ..."""


class ConstantFeatureWarning(UserWarning):
    """A feature has a single value, or none at all, in the training data and was left out of the
    points table."""
