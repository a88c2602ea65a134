"""What one ``resolve`` run did, as the CLI, the API and the benchmarks show it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["Mode", "ResolveReport"]

Mode = Literal["full", "incremental"]


@dataclass(frozen=True)
class ResolveReport:
    run_id: int
    model_id: str
    trained: bool
    mode: Mode
    full_because: str | None  # why a full run ran where an incremental one was asked for
    scored_pairs: int
    records: int
    new_records: int
    records_read: int  # records the run read: all, or the new ones' neighbourhood (0305)
    persons: int
    new_persons: int
    merges: int
    splits: int
    rule_links: int
    model_links: int
    refused_links: int
    reviews_pending: int
    reviews_new: int
    events_linked: int
    counterparts_linked: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
