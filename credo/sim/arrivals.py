"""A steady population: files that open in every month, and borrowers who keep borrowing.

Without it every person is on file from the first day of the window, so a long window is a
closed cohort that ages: every "months since" feature grows with the calendar and the share of
scores in each band drifts (docs/decisions/0537). With ``Arrivals`` a share ``present`` of the
persons are on file when the window opens; each of the others arrives on a day drawn uniformly
over the window, so about the same number arrive every month, the last scored one included.
A source records nothing about a person before they arrive: streams of events (payments,
rentals, bills, contacts, loans) are thinned to the days after arrival, at the same monthly
rates, and one-off records (registry attributes, enrolment, a court listing) are drawn over the
person's own time on file. More persons borrow (``borrowers``), and borrowers take a new loan
every few years (``loans_per_year``), so lending, and defaults, go on at a steady rate over a
long window. (Many loans per borrower would make a bad outcome a matter of how many loans a
person holds more than of how they pay: on the 10k demo 0.8 a year took the out-of-time AUC
from 0.82 to 0.81 and the best score from 762 to 716.)

``credo demo`` uses it (docs/decisions/0538); the default (``None``) leaves every population the
generator made before unchanged, byte for byte.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from credo.errors import ConfigError
from credo.sim.window import DateArray, Window

__all__ = ["Arrivals", "draw_arrivals"]


@dataclass(frozen=True)
class Arrivals:
    """``present``: share of persons on file when the window opens; ``borrowers``: share of
    persons who borrow at all; ``loans_per_year``: new loans a borrower takes per year on file,
    besides the first."""

    present: float = 0.5
    borrowers: float = 0.65
    loans_per_year: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.present <= 1.0:
            raise ConfigError(f"arrivals.present must be between 0 and 1, got {self.present}")
        if not 0.0 <= self.borrowers <= 1.0:
            raise ConfigError(f"arrivals.borrowers must be between 0 and 1, got {self.borrowers}")
        if not 0.0 <= self.loans_per_year <= 12.0:
            raise ConfigError(
                f"arrivals.loans_per_year must be between 0 and 12, got {self.loans_per_year}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def draw_arrivals(rng: np.random.Generator, n: int, window: Window, present: float) -> DateArray:
    """Each person's first day on file: the window's first day for a share ``present``, else a
    day drawn uniformly over the window."""
    arrived = np.full(n, window.first, dtype="datetime64[D]")
    late = rng.random(n) >= present
    arrived[late] = window.random_days(rng, int(late.sum()))
    return arrived
