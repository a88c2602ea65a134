"""The point in time a computation stands at: what had happened, and what was known.

Two clocks, because sources report late and history is loaded in bulk: ``as_of`` bounds when an
event *occurred* (nothing after the end of that day counts) and ``known_at`` bounds when it was
*recorded* (``events.recorded_at``). A monthly run records both as the snapshot's data watermark,
so replaying it with the same pair reads exactly the same events, however many arrived since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["PointInTime", "months_before"]


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier, clamped to the month's length (31 Mar - 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return min(
        day.replace(year=year, month=month, day=1) + dt.timedelta(day.day - 1),
        following - dt.timedelta(days=1),
    )


@dataclass(frozen=True)
class PointInTime:
    """``as_of``: the observation date; ``known_at``: the data watermark (recorded_at bound)."""

    as_of: dt.date
    known_at: dt.datetime
    retention_years: int = 7
    #: A correction re-score stands at the month it corrects: it reads the events the monthly
    #: run read (``known_at``) and every correction recorded by this later watermark, whenever
    #: made (docs/decisions/0531). ``None``: corrections as events, by both clocks.
    corrections_known_at: dt.datetime | None = None

    @property
    def end(self) -> dt.datetime:
        """Events must occur before this instant (midnight after the as-of date)."""
        return dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time())

    @property
    def corrections_end(self) -> dt.datetime:
        """Corrections must be made before this instant to apply."""
        if self.corrections_known_at is None:
            return self.end
        return max(self.end, self.corrections_known_at + dt.timedelta(days=1))

    @property
    def corrections_known(self) -> dt.datetime:
        """Corrections must be recorded by this instant to apply."""
        return self.corrections_known_at or self.known_at

    @property
    def retention_cutoff(self) -> dt.date:
        """Negative items that occurred before this date are no longer held against anyone."""
        return months_before(self.as_of, 12 * self.retention_years)

    def since(self, months: int) -> dt.date:
        """First day of the ``months`` months ending on the as-of date: (as_of - months, as_of]."""
        return months_before(self.as_of, months) + dt.timedelta(days=1)
