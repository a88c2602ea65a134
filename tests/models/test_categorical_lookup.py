"""A categorical feature's bin lookup renders the values it does not find all at once
(decision 0818): the bins are those of the value-by-value lookup, for any values."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.models._frame import to_categorical

from .conftest import handmade_table

MODEL = handmade_table()
HOUSING = MODEL._compiled["housing"]


def _one_by_one(values: np.ndarray[Any, Any]) -> list[int]:
    """The lookup as it was: each value on its own, rendered alone when not found."""
    out = []
    for v in values:
        found = HOUSING.categories.get(v, -1)
        if found == -1:
            text = to_categorical(np.array([v], dtype=object))[0]
            found = HOUSING.missing if text is None else HOUSING.categories.get(text, HOUSING.other)
        out.append(found)
    return out


values = st.one_of(
    st.sampled_from([*HOUSING.categories, "unseen", "", None, float("nan"), True, False]),
    st.text(max_size=6),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=False),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(values, max_size=40))
def test_the_values_not_found_take_the_bins_of_the_one_by_one_lookup(rows: list[Any]) -> None:
    column = np.empty(len(rows), dtype=object)
    column[:] = rows
    got = HOUSING.bin_index(column)
    assert got.tolist() == _one_by_one(column)
    # Missing values fall in the "missing" bin, known ones in their own.
    for v, i in zip(column, got, strict=True):
        if v is None:
            assert i == HOUSING.missing
        elif isinstance(v, str) and v in HOUSING.categories:
            assert i == HOUSING.categories[v]
