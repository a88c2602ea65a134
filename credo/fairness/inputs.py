"""The audit's inputs: the cuts asked for, and protected attributes lined up with the table.

Protected attributes come from their own file, never from the scored table, so the model cannot
have read them. They are joined on an id column or, without one, row by row; either way every
row of the table must find exactly one protected row, or nothing is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from credo.errors import InputError

__all__ = ["MISSING", "CutSpec", "align_protected", "group_labels"]

#: The group of rows whose attribute is blank: people who did not say are a group to audit too.
MISSING = "(missing)"


@dataclass(frozen=True)
class CutSpec:
    """A cut as asked: approve the top ``share`` of rows, or every row scoring ``score`` or more."""

    kind: Literal["share", "score"]
    share: Fraction | None = None
    score: float | None = None

    @classmethod
    def parse_share(cls, text: str) -> CutSpec:
        try:
            share = Fraction(text.strip())
        except (ValueError, ZeroDivisionError):
            raise InputError(f"--approve-share {text!r} is not a number") from None
        if not 0 < share <= 1:
            raise InputError(
                f"--approve-share {text!r} is out of range",
                hint="give a share above 0 and at most 1, e.g. 0.8 to approve the top 80%",
            )
        return cls("share", share=share)

    @property
    def label(self) -> str:
        if self.kind == "share":
            return f"top {float(self.share or 0):g}"
        return f"score >= {self.score:g}"


def group_labels(values: NDArray[Any]) -> NDArray[np.str_]:
    """One text per value: blanks become ``MISSING``, and 1, 1.0 and "1" are one group."""
    out = []
    for value in values.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            out.append(MISSING)
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value))
    return np.asarray(out, dtype=np.str_)


def _ids(values: NDArray[Any], path: Path, column: str) -> dict[str, int]:
    where: dict[str, int] = {}
    for index, value in enumerate(group_labels(values).tolist()):
        if value == MISSING:
            raise InputError(f"{str(path)!r}: id column {column!r} is blank in row {index + 1}")
        if value in where:
            raise InputError(
                f"{str(path)!r}: id {value!r} appears twice in column {column!r}"
                f" (rows {where[value] + 1} and {index + 1})",
                hint="each person needs one row of protected attributes",
            )
        where[value] = index
    return where


def align_protected(
    table: dict[str, NDArray[Any]],
    table_path: Path,
    protected: dict[str, NDArray[Any]],
    protected_path: Path,
    id_column: str | None,
) -> dict[str, NDArray[np.str_]]:
    """Per protected attribute, each table row's group, in the table's row order."""
    n = len(next(iter(table.values())))
    attributes = [name for name in protected if name != id_column]
    if not attributes:
        raise InputError(f"{str(protected_path)!r} has no protected attribute column")
    if id_column is None:
        rows = len(next(iter(protected.values())))
        if rows != n:
            raise InputError(
                f"{str(protected_path)!r} has {rows} rows and {str(table_path)!r} has {n}",
                hint="without --id the files are joined row by row; pass --id COLUMN to join",
            )
        order = np.arange(n)
    else:
        for path, columns in ((table_path, table), (protected_path, protected)):
            if id_column not in columns:
                raise InputError(f"{str(path)!r} has no id column {id_column!r}")
        where = _ids(protected[id_column], protected_path, id_column)
        table_ids = _ids(table[id_column], table_path, id_column)
        absent = [key for key in table_ids if key not in where]
        if absent:
            raise InputError(
                f"{len(absent)} id(s) of {str(table_path)!r} are not in"
                f" {str(protected_path)!r} (first: {absent[0]!r})",
                hint="every audited row needs its protected attributes",
            )
        order = np.asarray([where[key] for key in table_ids], dtype=np.intp)
    return {name: group_labels(protected[name])[order] for name in attributes}
