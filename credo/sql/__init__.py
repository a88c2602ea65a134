"""SQL generation helpers shared by every module that writes SQL (quoting, literals)."""

from __future__ import annotations

from typing import Any

__all__ = ["ident", "literal"]


def ident(name: str) -> str:
    """Quote an identifier; source column names can be anything, including Hanzi and spaces."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal for a constant from a mapping or policy (never for row data)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
