"""Snapshots of two engines compared bit for bit: the check behind "the same scores on Spark".

A float is compared by its bits (``float.hex``: ``-0.0`` differs from ``0.0``, a NaN equals a
NaN), lists element by element, everything else by ``==``. Rows are matched by ``person_id``,
so a person one engine scored and the other did not is a difference too, not a shifted row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

__all__ = ["Difference", "bits", "compare_snapshots"]


def bits(value: Any) -> Any:
    """A value as compared bit for bit (see the module docstring)."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else value.hex()
    if isinstance(value, list):
        return [bits(v) for v in value]
    return value


@dataclass(frozen=True)
class Difference:
    """One person's column that differs (``column`` is ``"(missing)"`` when one side has no
    row for the person; ``left``/``right`` then say which engine has it)."""

    person_id: str
    column: str
    left: Any
    right: Any


def compare_snapshots(
    left: pa.Table, right: pa.Table, *, ignore: tuple[str, ...] = ()
) -> list[Difference]:
    """Every difference between two snapshot tables, by person; ``ignore`` names columns that
    legitimately differ (e.g. ``run_id``). Columns must be the same, in the same order."""
    if left.column_names != right.column_names:
        raise ValueError(f"columns differ: {left.column_names} against {right.column_names}")
    columns = [c for c in left.column_names if c not in ignore]
    by_person = {str(r["person_id"]): r for r in right.to_pylist()}
    found: list[Difference] = []
    seen: set[str] = set()
    for row in left.to_pylist():
        person = str(row["person_id"])
        seen.add(person)
        other = by_person.get(person)
        if other is None:
            found.append(Difference(person, "(missing)", "present", "absent"))
            continue
        found += [
            Difference(person, c, row[c], other[c])
            for c in columns
            if bits(row[c]) != bits(other[c])
        ]
    found += [Difference(p, "(missing)", "absent", "present") for p in by_person if p not in seen]
    return found
