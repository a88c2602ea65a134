"""Credo's one exception tree.

Every error a user can cause is a ``CredoError``; it says what was wrong, where (file, row,
field, key) and what to do. The CLI turns it into one line and its ``exit_code``; the API
into one JSON shape and its ``http_status``. Anything else escaping is a bug.

::

    CredoError                      exit 1   generic failure
    ├── ConfigError                 exit 2   bad setting, mapping or policy file
    ├── InputError                  exit 3   a data file or request Credo cannot accept
    │   ├── EncodingError                    text that is not in the declared encoding
    │   ├── SchemaMismatchError              missing or unknown columns
    │   └── RejectedRowsError                rows failed validation beyond the allowed rate
    ├── NotFoundError               exit 4   no such person, load, model, ...
    ├── ConflictError               exit 5   the same record id with a different payload
    ├── StoreError                  exit 6   the database cannot be used as asked
    │   ├── StoreLockedError                 another process holds the database
    │   └── SchemaVersionError               written by a newer Credo
    ├── IntegrityError              exit 7   tamper evidence: the audit chain is broken
    ├── ModelError                  exit 8   models: unfitted, invalid points table, bad target
    └── AccessError                 exit 9   the service's rules refuse the caller
        ├── AuthError               (401)    no or bad credentials
        ├── ForbiddenError          (403)    known caller, not allowed: scope, consent, another
        │                                    person's file
        └── FrozenError             (423)    the person froze the file
"""

from __future__ import annotations

__all__ = [
    "AccessError",
    "AuthError",
    "ConfigError",
    "ConflictError",
    "CredoError",
    "EncodingError",
    "ForbiddenError",
    "FrozenError",
    "InputError",
    "IntegrityError",
    "ModelError",
    "NotFoundError",
    "RejectedRowsError",
    "SchemaMismatchError",
    "SchemaVersionError",
    "StoreError",
    "StoreLockedError",
]


class CredoError(Exception):
    """Base of every error a user can cause; carries its CLI exit code and HTTP status."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(CredoError):
    exit_code = 2
    http_status = 400


class InputError(CredoError):
    exit_code = 3
    http_status = 422


class EncodingError(InputError):
    """Text that is not in the declared (or detected) encoding."""


class SchemaMismatchError(InputError):
    """Missing or unknown columns, a repeated header: the file does not fit its mapping."""


class RejectedRowsError(InputError):
    """Validation rejected more rows than allowed; nothing was stored."""

    def __init__(self, message: str, *, hint: str | None = None, report: object = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


class NotFoundError(CredoError):
    exit_code = 4
    http_status = 404


class ConflictError(CredoError):
    exit_code = 5
    http_status = 409


class StoreError(CredoError):
    exit_code = 6
    http_status = 503


class StoreLockedError(StoreError):
    """Another process holds the database file."""


class SchemaVersionError(StoreError):
    """The file was written by a newer Credo; it is left untouched."""


class IntegrityError(CredoError):
    exit_code = 7
    http_status = 500


class ModelError(CredoError):
    exit_code = 8
    http_status = 422


class AccessError(CredoError):
    exit_code = 9
    http_status = 403


class AuthError(AccessError):
    http_status = 401


class ForbiddenError(AccessError):
    http_status = 403


class FrozenError(AccessError):
    http_status = 423
