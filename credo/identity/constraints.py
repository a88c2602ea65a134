"""Hard contradictions: what two records of one person can never both say (decision 0301).

However strong a chain of links between them, two records are never one person when

- they carry different national ids that both pass the GB 11643 check digit (a typo in an
  id almost always breaks the check digit, so two valid ids are two people);
- their sexes differ (the sex an id's 17th digit states wins over the sex a source wrote);
- their dates of birth differ by more than a day/month swap or one mistyped digit (the same
  tolerance as the model's date comparison).

The clustering keeps, per group of records, the set of each of these it holds and refuses a
link that would put a contradicting pair in one group, so no person is ever built from a chain
through records without ids that ends on two different verified ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Holdings", "Traits", "births_agree", "sex_of_national_id"]


@dataclass(frozen=True, slots=True)
class Traits:
    """What one record says that no other record of the same person may contradict."""

    national_id: str | None = None  # the hash of a check-digit-valid national id
    sex: str | None = None  # "F" or "M"
    birth: dt.date | None = None


def sex_of_national_id(number: str) -> str:
    """The sex a GB 11643 number states: its 17th digit is odd for men, even for women."""
    return "M" if int(number[16]) % 2 else "F"


def births_agree(a: dt.date, b: dt.date) -> bool:
    """Equal, day and month swapped, or one digit off in ``YYYYMMDD``: typos, not two people."""
    if a == b or (a.year == b.year and a.month == b.day and a.day == b.month):
        return True
    x, y = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    return sum(p != q for p, q in zip(x, y, strict=True)) <= 1


class Holdings:
    """The national ids, sexes and birth dates of one group of records."""

    __slots__ = ("births", "ids", "sexes")

    def __init__(self, traits: Traits) -> None:
        self.ids = {traits.national_id} if traits.national_id is not None else set()
        self.sexes = {traits.sex} if traits.sex is not None else set()
        self.births = {traits.birth} if traits.birth is not None else set()

    def __bool__(self) -> bool:
        return bool(self.ids or self.sexes or self.births)

    def clash(self, other: Holdings, *, ids_only: bool = False) -> str | None:
        """Why the two groups cannot be one person (None: they can). A reviewer who accepted
        a pair has seen its sexes and dates (``ids_only``); two verified ids stay apart."""
        if self.ids and other.ids and self.ids != other.ids:
            return "different verified national ids"
        if ids_only:
            return None
        if self.sexes and other.sexes and self.sexes != other.sexes:
            return "different sexes"
        for a in self.births:
            for b in other.births:
                if not births_agree(a, b):
                    return "dates of birth differ beyond a typo"
        return None

    def absorb(self, other: Holdings) -> None:
        self.ids |= other.ids
        self.sexes |= other.sexes
        self.births |= other.births
