"""Small source files written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import yaml

from credo.ingest.mapping import Mapping, parse_mapping

PAYMENTS_MAPPING = {
    "version": 1,
    "source": "shop",
    "format": "csv",
    "event_type": {"value": "payment"},
    "fields": {
        "source_record_id": {"column": "txn"},
        "occurred_at": {"column": "when", "format": "%d/%m/%Y %H:%M"},
        "amount": {"column": "fen", "scale": 0.01},
        "merchant_category": {"column": "cat", "map": {"G": "grocery", "D": "dining"}},
        "phone": {"column": "mobile"},
        "name": {"column": "name"},
    },
    "ignore": ["note"],
}
HEADER = "txn,when,fen,cat,mobile,name,note\n"
GOOD_ROWS = [
    "T1,01/03/2026 10:00,1250,G,13800000001,张伟,\n",
    "T2,02/03/2026 11:30,99,D,+86 138-0000-0002,李娜,first visit\n",
    'T3,03/03/2026 09:15,100000,G,13800000001,张伟,"quoted, with comma"\n',
]


def payments_mapping(**changes: object) -> Mapping:
    data = {**PAYMENTS_MAPPING, **changes}
    return parse_mapping(data, "test mapping")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_mapping(path: Path, data: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
