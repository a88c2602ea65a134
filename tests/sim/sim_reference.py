"""A reference reader for generated source files, independent of the ingest loader.

It applies a shipped mapping to every row the plain way (csv / json /
pyarrow, then the mapping's column, map, format and scale rules, then the event's pydantic
model), independently of the ingest loader, so the generator's promise — every row is a valid
event except the ones the manifest lists — is checked against the contract itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict

import pyarrow.parquet as pq
from pydantic import ValidationError

from credo.ingest.events import EVENT_MODELS, FIELDS, EventBase
from credo.ingest.mapping import ColumnRule, Mapping, load_mapping
from credo.sim import GenerationSummary


class RunArgs(TypedDict):
    people: int
    months: int
    seed: int


SMALL = RunArgs(people=50, months=3, seed=3)
MEDIUM = RunArgs(people=1500, months=6, seed=11)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative path: two folders are the same output when
    these are equal."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_rows(path: Path, mapping: Mapping) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and rows of a source file; CSV cells are text, empty cells None."""
    fmt = mapping.file_format(path)
    if fmt == "csv":
        text = path.read_bytes().decode(mapping.encoding or "utf-8")
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=mapping.delimiter, quotechar=mapping.quote
        )
        header = next(reader)
        rows = [
            {k: (v if v != "" else None) for k, v in zip(header, r, strict=True)} for r in reader
        ]
        return header, rows
    if fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        header = list(rows[0]) if rows else []
        assert all(list(r) == header for r in rows), "every JSON line has the same keys"
        return header, rows
    table = pq.read_table(path)
    return table.column_names, table.to_pylist()


class RowError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def _value(name: str, rule: ColumnRule, row: dict[str, Any]) -> Any:
    if rule.value is not None:
        raw: Any = rule.value
    elif rule.columns is not None:
        parts = [row[c] for c in rule.columns if row[c] not in (None, "")]
        raw = rule.separator.join(str(p) for p in parts) or None
    else:
        raw = row[rule.column or ""]
    if raw is None or raw == "":
        return None
    if rule.map is not None:
        key = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if key not in rule.map:
            raise RowError(name, f"{raw!r} is not in the map")
        raw = rule.map[key]
    if rule.formats and isinstance(raw, str):
        for fmt in rule.formats:
            try:
                parsed = dt.datetime.strptime(raw, fmt)
            except ValueError:
                continue
            raw = parsed if FIELDS[name].kind == "datetime" else parsed.date()
            break
        else:
            raise RowError(name, f"{raw!r} matches none of {rule.formats}")
    if rule.scale is not None:
        raw = Decimal(str(raw)) * Decimal(str(rule.scale))
    if FIELDS[name].kind == "money" and isinstance(raw, float):
        raw = Decimal(str(raw))
    return raw


def to_event(mapping: Mapping, row: dict[str, Any], end: dt.date) -> EventBase:
    """The event a row maps to; raises RowError naming the field at fault."""
    rule = mapping.event_type
    if rule.value is not None:
        etype = str(rule.value)
    else:
        raw = row[rule.column or ""]
        etype = str((rule.map or {}).get(str(raw), raw))
    data: dict[str, Any] = {}
    for name, field_rule in mapping.fields.items():
        value = _value(name, field_rule, row)
        if value is not None:
            data[name] = value
    try:
        event = EVENT_MODELS[etype].model_validate(data)
    except ValidationError as exc:
        raise RowError(str(exc.errors()[0]["loc"][0]), exc.errors()[0]["msg"]) from None
    for name in data:
        if FIELDS[name].not_future:
            value = getattr(event, name)
            day = value.date() if isinstance(value, dt.datetime) else value
            if day is not None and day > end:
                raise RowError(name, f"{day} is after the window end {end}")
    return event


@dataclass(frozen=True)
class Checked:
    source: str
    header: list[str]
    events: list[EventBase | None]
    errors: dict[int, str]  # 1-based row -> field at fault


def check_sources(summary: GenerationSummary) -> Iterator[Checked]:
    for f in summary.files:
        mapping = load_mapping(f.mapping)
        header, rows = read_rows(f.path, mapping)
        events: list[EventBase | None] = []
        errors: dict[int, str] = {}
        for k, row in enumerate(rows, start=1):
            try:
                events.append(to_event(mapping, row, summary.end))
            except RowError as exc:
                events.append(None)
                errors[k] = exc.field
        yield Checked(f.source, header, events, errors)
