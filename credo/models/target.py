"""Which target value means bad (decision 0105): 0/1 as it reads, anything else said, never guessed.

A target coded yes/no, Y/N, good/bad or true/false has no obvious bad value: "yes" may be "yes,
defaulted" or "yes, repaid". Guessing wrong writes an inverted model that trains with exit 0, so
any two-valued target other than 0/1 needs ``--bad VALUE``. The value is matched as written
first, then by meaning whatever type the reader gave the column ("no", "N", "false" and 0 are
the same answer; "Bad" matches "bad"). The coding is stored in the model and ``validate``
reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.models._errors import DataError, FitError
from credo.models.reader import FALSE_WORDS, TRUE_WORDS, raw_source
from credo.sql import ident

__all__ = ["TargetCoding", "code_target", "read_target"]


@dataclass(frozen=True)
class TargetCoding:
    """The target as 1 (bad) / 0 (good), and both values as written in the file."""

    bad: str
    good: str
    y: NDArray[np.int64]


def read_target(path: str | Path, column: str) -> NDArray[np.object_]:
    """The target column as written (text; a Parquet boolean reads ``true``/``false``)."""
    import duckdb

    sql = f"SELECT CAST({ident(column)} AS VARCHAR) AS t FROM {raw_source(path)}"
    try:
        values = duckdb.connect().sql(sql).fetchnumpy()["t"]
    except duckdb.Error as exc:
        raise DataError(f"cannot read target column {column!r} of {str(path)!r}: {exc}") from None
    if isinstance(values, np.ma.MaskedArray):
        out = np.asarray(values.data, dtype=object)
        out[np.ma.getmaskarray(values)] = None
        return out
    return np.asarray(values, dtype=object)


def _meaning(value: str) -> tuple[str, Any]:
    """What a target value says, whatever its spelling: a truth, a number or a word."""
    text = value.strip().lower()
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return ("truth", text in TRUE_WORDS)
    try:
        number = float(text)
    except ValueError:
        return ("word", text)
    if number in (0.0, 1.0):
        return ("truth", number == 1.0)
    return ("number", number)


def _match(bad: str, classes: list[str]) -> str | None:
    if bad in classes:
        return bad
    same = [c for c in classes if _meaning(c) == _meaning(bad)]
    return same[0] if len(same) == 1 else None


def code_target(values: NDArray[Any], column: str, bad: str | None) -> TargetCoding:
    """1 for bad, 0 for good. Without ``bad`` only a 0/1 target is read (1 is bad)."""
    missing = np.flatnonzero([v is None for v in values])
    if len(missing):
        raise DataError(
            f"target column {column!r} is missing in {len(missing)} rows (first: row"
            f" {missing[0] + 1})",
            hint="drop unlabelled rows before training or validating",
        )
    text = np.asarray([str(v).strip() for v in values], dtype=object)
    classes = sorted(set(text))
    listed = ", ".join(map(repr, classes[:6])) + (" ..." if len(classes) > 6 else "")
    if len(classes) == 1:
        raise FitError(
            f"target column {column!r} has one class only ({classes[0]!r}): a scorecard needs"
            " both good and bad outcomes",
            hint="check the target column",
        )
    if len(classes) != 2:
        raise DataError(
            f"target column {column!r} must hold two values (bad and good); it holds"
            f" {len(classes)}: {listed}",
            hint="map the target to two values first",
        )
    if bad is None:
        meanings = [_meaning(c) for c in classes]
        numbers = all(_is_number(c) for c in classes)
        if not numbers or {m[1] for m in meanings} != {True, False}:
            raise DataError(
                f"target column {column!r} holds {listed}: say which value means bad",
                hint="pass --bad VALUE (only a 0/1 target is read without it: 1 is bad)",
            )
        chosen = next(c for c, m in zip(classes, meanings, strict=True) if m[1] is True)
    else:
        found = _match(bad, classes)
        if found is None:
            raise DataError(
                f"--bad {bad!r} is not a value of target column {column!r}",
                hint=f"it holds {listed}",
            )
        chosen = found
    good = next(c for c in classes if c != chosen)
    return TargetCoding(bad=chosen, good=good, y=np.asarray(text == chosen, dtype=np.int64))


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
