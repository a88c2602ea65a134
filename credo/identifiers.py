"""Chinese resident identity numbers (GB 11643-1999) and mobile numbers, and how any
identifying text is masked in a message or a log (issue 17, item 7).

The check digit is ISO 7064 MOD 11-2 over the first 17 digits. Identity resolution uses
``is_valid_gb11643`` to decide whether a national id is trustworthy enough for an exact
match (a mistyped id fails the check 10 times in 11); the synthetic population uses the
same functions to issue valid ids. Neither depends on the other.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

__all__ = [
    "GB11643_WEIGHTS",
    "gb11643_check_digit",
    "gb11643_check_digits",
    "is_valid_gb11643",
    "mask",
    "mask_line",
]

GB11643_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
"""Weight of each of the first 17 digits: 2^(17-i) mod 11, i.e. 7, 9, 10, 5, 8, 4, 2, 1, 6, ..."""

_CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11


def gb11643_check_digit(first17: str) -> str:
    """The check character ('0'-'9' or 'X') for the first 17 digits of an identity number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need exactly 17 ASCII digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, GB11643_WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def is_valid_gb11643(id18: str) -> bool:
    """Whether an 18-character identity number has the right shape and check digit.

    A lower-case 'x' is accepted as the check character, as forms often write it; the
    region and birth-date parts are not checked against registers.
    """
    if len(id18) != 18 or not id18[:17].isascii() or not id18[:17].isdigit():
        return False
    return gb11643_check_digit(id18[:17]) == id18[17].upper()


def gb11643_check_digits(first17: npt.NDArray[np.int64]) -> list[str]:
    """Check characters for many ids at once; ``first17`` is an (n, 17) array of digits."""
    weights = np.asarray(GB11643_WEIGHTS, dtype=np.int64)
    sums = (first17 @ weights) % 11
    return [_CHECK_CHARS[int(s)] for s in sums]


_WORD = re.compile(r"\w+")


def mask(text: str) -> str:
    """A value as messages and logs may show it: a long one (10 characters or more: a national
    id, a phone number) keeps its last 4 characters, a short one (a name) none, the rest ``*``.
    The one masking helper: every error path that could show an identifier uses it."""
    shown = 4 if len(text) >= 10 else 0
    return "*" * (len(text) - shown) + text[len(text) - shown :]


def mask_line(line: str) -> str:
    """A raw line of a file with every word masked (:func:`mask`): which field a broken line's
    words belong to is unknown, so none is shown in clear; its quotes, delimiters and shape
    stay, which is what finding the fault needs."""
    return _WORD.sub(lambda m: mask(m.group()), line)
