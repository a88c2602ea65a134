"""Turn whatever a caller passes (arrays, DataFrames, dicts of columns) into typed columns.

A scorecard works column by column: numeric features become float64 with NaN for missing,
categorical features become object arrays of ``str`` or ``None``. Doing the conversion here, once,
is what lets the NumPy path agree with the SQL path to the last point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from credo.models._errors import DataError

__all__ = [
    "FeatureKind",
    "column_of",
    "infer_kind",
    "is_frame",
    "to_categorical",
    "to_numeric",
]

FeatureKind = Literal["numeric", "categorical"]

#: Text a numeric column may hold for "no value" (compared stripped and lower-cased): the
#: spellings of public tables and spreadsheet exports ("?" in UCI's credit files, "#N/A" from a
#: spreadsheet, "-" for an empty amount).
MISSING_MARKERS = frozenset(
    {"", "na", "n/a", "n.a.", "#n/a", "nan", "null", "none", "nil", "?", "-", "--"}
)
#: Share of number-like values above which a text column is taken as numeric with bad cells.
NUMERIC_SHARE = 0.9


def is_frame(data: object) -> bool:
    """A DataFrame-like object (pandas, polars): named columns, indexable by name."""
    return (
        hasattr(data, "columns")
        and hasattr(data, "__getitem__")
        and not isinstance(data, np.ndarray)
    )


def column_of(data: object, name: str) -> NDArray[Any]:
    """One column by name from a mapping or a DataFrame, as a 1-D NumPy array."""
    if isinstance(data, Mapping):
        if name not in data:
            raise DataError(f"no column {name!r} in the data", hint=_have(list(data)))
        values = data[name]
    elif is_frame(data):
        # Labels may be integers (a frame built from an array): match them by their text.
        labels = {str(c): c for c in data.columns}  # type: ignore[attr-defined]
        if name not in labels:
            raise DataError(f"no column {name!r} in the data", hint=_have(list(labels)))
        values = data[labels[name]]  # type: ignore[index]
        if hasattr(values, "to_numpy"):
            values = values.to_numpy()
    else:
        raise DataError(
            f"cannot read column {name!r} from a {type(data).__name__}",
            hint="pass a mapping of column name to array, or a DataFrame",
        )
    if isinstance(values, np.ma.MaskedArray):
        return _unmask(values)
    array = np.asarray(values)
    if array.ndim != 1:
        raise DataError(f"column {name!r} has {array.ndim} dimensions, expected 1")
    return array


def _have(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:12])
    more = f" and {len(columns) - 12} more" if len(columns) > 12 else ""
    return f"the data has {shown}{more}"


def _unmask(values: np.ma.MaskedArray[Any, Any]) -> NDArray[Any]:
    """DuckDB's ``fetchnumpy`` returns masked arrays for columns with NULLs."""
    mask = np.ma.getmaskarray(values)
    if values.dtype.kind in "fiub":
        out = np.asarray(values.data, dtype=np.float64).copy()
        out[mask] = np.nan
        return out
    out_obj = np.asarray(values.data, dtype=object).copy()
    out_obj[mask] = None
    return out_obj


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_number(value: object) -> float | None:
    """The value as a float, NaN for missing, or None when it is not a number."""
    if _is_missing(value):
        return math.nan
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in MISSING_MARKERS:
            return math.nan
        try:
            return float(text)
        except ValueError:
            return None
    return None


def infer_kind(values: NDArray[Any], name: str) -> FeatureKind:
    """Numeric when every value is a number; text with a few bad cells is an error, not a category.

    A column that is mostly numbers with a stray word is almost always a data error (a footnote,
    "unknown", a shifted column); binning it as a category would hide the problem.
    """
    if values.dtype.kind in "fiub":
        return "numeric"
    parsed = [_as_number(v) for v in values]
    present = [(i, p) for i, p in enumerate(parsed) if p is None or not math.isnan(p)]
    bad = [i for i, p in present if p is None]
    if not bad:
        return "numeric"
    if len(present) and (len(present) - len(bad)) / len(present) >= NUMERIC_SHARE:
        first = bad[0]
        raise DataError(
            f"column {name!r} is numeric but row {first + 1} holds {values[first]!r}"
            f" ({len(bad)} such rows)",
            hint="fix or blank those cells, or declare the column categorical",
        )
    return "categorical"


def to_numeric(values: NDArray[Any], name: str) -> NDArray[np.float64]:
    """float64 with NaN for missing; any text that is not a number is an error naming the row."""
    if values.dtype.kind in "fiub":
        return np.asarray(values, dtype=np.float64)
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        number = _as_number(value)
        if number is None:
            raise DataError(
                f"column {name!r} is numeric but row {i + 1} holds {value!r}",
                hint="fix or blank that cell",
            )
        out[i] = number
    return out


def _text(value: object) -> str | None:
    if _is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        # SQL engines render booleans in lower case; categories must match on both paths.
        return "true" if value else "false"
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def to_categorical(values: NDArray[Any]) -> NDArray[np.object_]:
    """Object array of ``str`` (as SQL's ``CAST(x AS VARCHAR)`` renders them) or ``None``."""
    if values.dtype.kind in "US":
        return np.asarray(values, dtype=object)
    return np.array([_text(v) for v in values], dtype=object)
