"""Mapping files: every mistake is named with its file, key and a suggestion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ingest_files import PAYMENTS_MAPPING, write_mapping

from credo.errors import ConfigError, NotFoundError
from credo.ingest.mapping import load_mapping, parse_mapping, shipped_mapping


def _with(**changes: Any) -> dict[str, Any]:
    return {**PAYMENTS_MAPPING, **changes}


def _fields(**changes: Any) -> dict[str, Any]:
    return _with(fields={**PAYMENTS_MAPPING["fields"], **changes})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _with(evnt_type={"value": "payment"}),
            "unknown key 'evnt_type' (did you mean 'event_type'?)",
        ),
        (_with(event_type={"value": "paymnt"}), "unknown type 'paymnt' (did you mean 'payment'?)"),
        (
            _fields(ammount={"column": "fen"}),
            "unknown event field 'ammount' (did you mean 'amount'?)",
        ),
        (
            _fields(amount={"colum": "fen"}),
            "fields.amount.colum: unknown key (did you mean 'column'?)",
        ),
        (
            _fields(amount={"column": "fen", "value": 1}),
            "exactly one of 'column', 'columns' or 'value'",
        ),
        (_fields(merchant_category={"value": "grocey"}), "'grocey' is not one of"),
        (
            _fields(amount={"column": "fen", "format": "%Y"}),
            "only date and time fields take a format",
        ),
        (
            _fields(occurred_at={"column": "when", "format": "%d/%m/%Y %Q"}),
            "fields.occurred_at.format: '%d/%m/%Y %Q' is not a date format",
        ),
        (
            _fields(occurred_at={"column": "when", "format": ["%Y-%m-%d", "%"]}),
            "fields.occurred_at.format: '%' is not a date format: Failed to parse",
        ),
        (_fields(bill_kind={"value": "rent"}), "event type 'payment' has no such field"),
        (_with(source="Bad Name"), "source"),
        (_with(format="xlsx"), "format"),
        ({k: v for k, v in PAYMENTS_MAPPING.items() if k != "event_type"}, "event_type"),
        (["not", "a", "mapping"], "must be a YAML mapping"),
    ],
)
def test_mapping_errors_name_the_key(tmp_path: Path, data: Any, message: str) -> None:
    path = (
        write_mapping(tmp_path / "m.yaml", data) if isinstance(data, dict) else tmp_path / "m.yaml"
    )
    if not isinstance(data, dict):
        path.write_text("- not\n- a\n- mapping\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load_mapping(bad)
    with pytest.raises(NotFoundError, match="does not exist"):
        load_mapping(tmp_path / "none.yaml")


def test_shipped_mappings_parse_and_digest_is_stable() -> None:
    m = shipped_mapping("city_utilities")
    assert m is not None and m.encoding == "gb18030"
    assert m.digest() == parse_mapping(m.model_dump(mode="json"), "again").digest()
    assert shipped_mapping("no_such_source") is None
