"""GB 11643 identity numbers: the check digit, and the numbers the generator issues."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.identifiers import gb11643_check_digit, is_valid_gb11643

# The standard's own example (GB 11643-1999, appendix) and a widely published one.
PUBLISHED = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("id18", PUBLISHED)
def test_published_examples_validate(id18: str) -> None:
    assert is_valid_gb11643(id18)
    assert gb11643_check_digit(id18[:17]) == id18[17]


@pytest.mark.parametrize(
    "id18",
    [
        "110105194912310021",  # check digit changed
        "11010519491231003X",  # sequence changed
        "11010519491213002X",  # day and month digits transposed
        "11010519491231002",  # too short
        "1101051949123100２X",  # a full-width digit
        "",
    ],
)
def test_modified_numbers_fail(id18: str) -> None:
    assert not is_valid_gb11643(id18)


def test_lower_case_x_is_accepted() -> None:
    assert is_valid_gb11643("11010519491231002x")


@pytest.mark.parametrize("bad", ["1234", "1101051949123100A", "11010519491231002X"])
def test_check_digit_needs_17_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        gb11643_check_digit(bad)


digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)


@given(digits17, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_error_is_caught(first17: str, pos: int, shift: int) -> None:
    id18 = first17 + gb11643_check_digit(first17)
    assert is_valid_gb11643(id18)
    changed = str((int(first17[pos]) + shift) % 10)
    assert not is_valid_gb11643(id18[:pos] + changed + id18[pos + 1 :])
