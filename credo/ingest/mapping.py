"""Source mappings: how a source's columns become event fields.

A mapping is a small YAML file, one per source layout. It names the file format, the record id,
the event type (constant or from a column), and for each event field either a source column
(with date formats, units and value maps) or a constant. Every column of the file must be
mapped or listed under ``ignore``: a column nobody mentioned is an error, not silently dropped.

Example::

    version: 1
    source: city_water
    format: csv
    encoding: gb18030
    event_type: {value: bill}
    fields:
      source_record_id: {column: bill_no}
      occurred_at: {column: issued, format: "%d/%m/%Y"}
      amount: {column: due_fen, scale: 0.01}
      bill_kind: {value: utility}
    ignore: [operator_note]
"""

from __future__ import annotations

import difflib
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from credo.errors import ConfigError, NotFoundError
from credo.ingest.events import EVENT_FIELDS, EVENT_MODELS, FIELDS

__all__ = [
    "ColumnRule",
    "Compression",
    "Mapping",
    "compression",
    "load_mapping",
    "parse_mapping",
    "shipped_mapping",
]

FileFormat = Literal["csv", "jsonl", "parquet"]
Compression = Literal["gzip"] | None
"""How a text source file is compressed: ``"gzip"`` or not at all (None)."""


def _strptime_problem(fmt: str) -> str | None:
    """DuckDB's own complaint about a ``strptime`` format, or ``None`` if it reads it."""
    con = duckdb.connect()
    try:
        con.execute("SELECT try_strptime('', ?)", [fmt])
    except duckdb.Error as exc:
        return str(exc).split("Error: ", 1)[-1].splitlines()[0]
    finally:
        con.close()
    return None


class ColumnRule(BaseModel):
    """Where one event field comes from: a column (or several, joined) or a constant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    columns: list[str] | None = Field(default=None, min_length=2)
    value: str | int | float | bool | None = None
    format: str | list[str] | None = None
    scale: float | None = None
    map: dict[str, str | bool] | None = None
    separator: str = "|"

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnRule:
        given = [k for k in ("column", "columns", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'column', 'columns' or 'value'")
        return self

    @field_validator("format")
    @classmethod
    def _formats_parse(cls, v: str | list[str] | None) -> str | list[str] | None:
        # Checked when the mapping is read, by the engine that will parse the dates: an
        # unknown directive found at load time was a traceback (exit 1), not a named key.
        for fmt in [v] if isinstance(v, str) else (v or []):
            problem = _strptime_problem(fmt)
            if problem:
                raise ValueError(f"{fmt!r} is not a date format: {problem}")
        return v

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        # YAML reads `1: bike` with an integer key; source values are always text.
        if isinstance(v, dict):
            return {str(k): val for k, val in v.items()}
        return v

    @property
    def formats(self) -> list[str]:
        if self.format is None:
            return []
        return [self.format] if isinstance(self.format, str) else list(self.format)

    @property
    def source_columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        return list(self.columns or [])


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    source: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    description: str = ""
    format: FileFormat | None = None
    encoding: str | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quote: str = Field(default='"', min_length=1, max_length=1)
    event_type: ColumnRule
    fields: dict[str, ColumnRule]
    ignore: list[str] = []

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, v: dict[str, ColumnRule]) -> dict[str, ColumnRule]:
        for name in v:
            if name not in FIELDS:
                raise ValueError(f"unknown event field {name!r}{_did_you_mean(name, FIELDS)}")
        if "source_record_id" not in v:
            raise ValueError("'source_record_id' must be mapped: it makes loads idempotent")
        if "occurred_at" not in v:
            raise ValueError("'occurred_at' must be mapped")
        return v

    @model_validator(mode="after")
    def _coherent(self) -> Mapping:
        types = self.event_types()
        for t in types:
            if t not in EVENT_MODELS:
                raise ValueError(f"event_type: unknown type {t!r}{_did_you_mean(t, EVENT_MODELS)}")
        if self.event_type.value is not None:
            (etype,) = types
            for name in self.fields:
                if name not in EVENT_FIELDS[etype]:
                    raise ValueError(f"fields.{name}: event type {etype!r} has no such field")
        for name, rule in self.fields.items():
            spec = FIELDS[name]
            if rule.formats and spec.kind not in ("date", "datetime"):
                raise ValueError(f"fields.{name}.format: only date and time fields take a format")
            if rule.scale is not None and spec.kind not in ("money", "int"):
                raise ValueError(f"fields.{name}.scale: only numeric fields take a scale")
            if spec.kind == "enum":
                given = [rule.value] if rule.value is not None else list((rule.map or {}).values())
                for v in given:
                    if v not in spec.choices:
                        raise ValueError(
                            f"fields.{name}: {v!r} is not one of {', '.join(spec.choices)}"
                            f"{_did_you_mean(str(v), spec.choices)}"
                        )
        return self

    def event_types(self) -> list[str]:
        if self.event_type.value is not None:
            return [str(self.event_type.value)]
        return sorted({str(v) for v in (self.event_type.map or {}).values()}) or list(EVENT_MODELS)

    def source_columns(self) -> set[str]:
        cols = set(self.event_type.source_columns)
        for rule in self.fields.values():
            cols.update(rule.source_columns)
        return cols

    def file_format(self, path: Path) -> FileFormat:
        """The format given, else the one the suffix names (under a ``.gz`` one: the text
        formats may come gzipped, see ``compression``)."""
        gzipped = compression(path) == "gzip"
        inner = Path(path.stem).suffix.lower() if gzipped else ""
        if gzipped and (self.format == "parquet" or inner in (".parquet", ".pq")):
            raise ConfigError(
                f"{path}: a gzipped Parquet file is not read",
                hint="Parquet compresses its own pages; send it as .parquet",
            )
        if self.format is not None:
            return self.format
        suffix = (inner if gzipped else path.suffix.lower()).lstrip(".")
        by_suffix: dict[str, FileFormat] = {
            "csv": "csv",
            "txt": "csv",
            "jsonl": "jsonl",
            "ndjson": "jsonl",
            "json": "jsonl",
            "parquet": "parquet",
            "pq": "parquet",
        }
        if suffix not in by_suffix:
            raise ConfigError(
                f"{path}: cannot tell the file format from the suffix {path.suffix!r}",
                hint="set 'format' in the mapping (csv, jsonl or parquet)",
            )
        return by_suffix[suffix]

    def digest(self) -> str:
        """A stable hash of the mapping's meaning, recorded with every load."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def compression(path: Path) -> Compression:
    """``"gzip"`` for a file named ``*.gz`` (CSV or JSON Lines as partners export them), else
    None. The name decides, as it does the format: a file is not sniffed."""
    return "gzip" if path.suffix.lower() == ".gz" else None


def _did_you_mean(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith("function-"))


def parse_mapping(data: Any, origin: str) -> Mapping:
    """Validate a mapping document; errors name the file and the key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: a mapping must be a YAML mapping of keys, not {data!r:.40}")
    top = set(Mapping.model_fields)
    for key in data:
        if key not in top:
            raise ConfigError(f"{origin}: unknown key {key!r}{_did_you_mean(str(key), top)}")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            key = str(first["loc"][-1])
            msg = f"unknown key{_did_you_mean(key, ColumnRule.model_fields)}"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{origin}: {where or 'mapping'}: {msg}{more}") from None


def load_mapping(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"mapping file {path} does not exist") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_mapping(data, str(path))


def shipped_mapping(source: str) -> Mapping | None:
    """The mapping Credo ships for a known source (the synthetic population's), if any."""
    ref = resources.files("credo") / "mappings" / f"{source}.yaml"
    if not ref.is_file():
        return None
    data = yaml.safe_load(ref.read_text(encoding="utf-8"))
    return parse_mapping(data, f"shipped mapping {source}.yaml")
