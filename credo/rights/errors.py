"""The service's refusals; they live in the one tree of :mod:`credo.errors`."""

from __future__ import annotations

from credo.errors import AuthError, ForbiddenError, FrozenError

__all__ = ["AuthError", "ForbiddenError", "FrozenError"]
