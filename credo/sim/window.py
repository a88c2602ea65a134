"""The observation window and the date and time arithmetic the sources share.

Every event falls in the ``months`` months that end on ``end`` (inclusive). Dates are numpy
``datetime64[D]`` and times ``datetime64[s]`` so that whole columns are drawn and shifted at
once; text in a source's own format is produced by Arrow's ``strftime`` in one call per column.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from credo.sim.draws import IntArray

__all__ = ["DateArray", "TimeArray", "Window", "add_months", "format_times", "month_parts"]

DateArray = npt.NDArray[np.datetime64]
TimeArray = npt.NDArray[np.datetime64]

# Share of everyday activity by hour of day (payments, rentals): quiet at night, peaks at
# lunch and in the evening.
_HOUR_WEIGHTS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1.5, 3, 4, 4.5, 4.5, 5.5, 6.5, 5, 4.5, 4.5, 5, 5.5, 6.5, 7, 6.5,
     5, 3.5, 2],
    dtype=np.float64,
)  # fmt: skip
_HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day-of-month ``months`` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_parts(days: DateArray) -> tuple[IntArray, IntArray, IntArray]:
    """Year, month (1-12) and day (1-31) of each date."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def format_times(values: npt.NDArray[np.datetime64], pattern: str) -> list[str | None]:
    """Format dates or times with a strftime pattern; NaT becomes None (an empty cell)."""
    mask = np.isnat(values)
    if values.dtype == np.dtype("datetime64[D]"):
        arr = pa.array(values, type=pa.date32(), mask=mask)
        arr = arr.cast(pa.timestamp("s"))
    else:
        arr = pa.array(values.astype("datetime64[s]"), type=pa.timestamp("s"), mask=mask)
    out: list[str | None] = pc.strftime(arr, format=pattern).to_pylist()
    return out


@dataclass(frozen=True)
class Window:
    """The inclusive date range events fall in: ``months`` months ending on ``end``."""

    start: dt.date
    end: dt.date

    @classmethod
    def ending(cls, end: dt.date, months: int) -> Window:
        if months < 1:
            raise ValueError(f"months must be at least 1, got {months}")
        return cls(add_months(end, -months) + dt.timedelta(days=1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> float:
        """Length in average months, for scaling monthly rates."""
        return self.days / 30.436875

    @property
    def first(self) -> np.datetime64:
        return np.datetime64(self.start, "D")

    @property
    def last(self) -> np.datetime64:
        return np.datetime64(self.end, "D")

    @property
    def last_second(self) -> np.datetime64:
        last: np.datetime64 = np.datetime64(self.end, "D").astype("datetime64[s]")
        return last + np.timedelta64(86399, "s")

    def random_days(
        self, rng: np.random.Generator, n: int, *, lead: int = 0, tail: int = 0
    ) -> DateArray:
        """Uniform days in the window, keeping ``lead`` days after its start and ``tail`` before
        its end free (for follow-up events that must also fall inside)."""
        span = max(1, self.days - lead - tail)
        offsets = rng.integers(0, span, size=n) + lead
        return np.asarray(self.first + offsets.astype("timedelta64[D]"), dtype="datetime64[D]")

    def times_on(self, rng: np.random.Generator, days: DateArray) -> TimeArray:
        """A time of day for each date, following everyday activity by hour."""
        hours = rng.choice(24, size=len(days), p=_HOUR_P).astype(np.int64)
        seconds = hours * 3600 + rng.integers(0, 3600, size=len(days))
        return np.asarray(days.astype("datetime64[s]") + seconds.astype("timedelta64[s]"))

    def month_starts(self) -> DateArray:
        """The first day of every calendar month that overlaps the window."""
        first = np.datetime64(self.start, "M")
        last = np.datetime64(self.end, "M")
        return np.arange(first, last + 1).astype("datetime64[D]")
